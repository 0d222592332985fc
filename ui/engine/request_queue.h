// The engine worker's work, in two lanes: an interactive request (the image the user is
// looking at) is served before any background work (Caption all, scoring) that was queued
// before it, instead of waiting behind it. Filled on the UI thread, emptied on the worker's.
#pragma once

#include <deque>
#include <functional>
#include <mutex>

namespace esper::ui {

class RequestQueue {
public:
    enum class Lane { Interactive, Background };

    void push(Lane lane, std::function<void()> job) {
        const std::lock_guard<std::mutex> lock(mutex_);
        (lane == Lane::Interactive ? interactive_ : background_).push_back(std::move(job));
    }
    // The oldest interactive job, else the oldest background one; empty when there is none.
    std::function<void()> pop() {
        const std::lock_guard<std::mutex> lock(mutex_);
        auto& lane = !interactive_.empty() ? interactive_ : background_;
        if (lane.empty()) return {};
        auto job = std::move(lane.front());
        lane.pop_front();
        return job;
    }

    // The oldest interactive job only: long background work (a recording's timeline) runs the
    // interactive jobs that arrive between its steps.
    std::function<void()> popInteractive() {
        const std::lock_guard<std::mutex> lock(mutex_);
        if (interactive_.empty()) return {};
        auto job = std::move(interactive_.front());
        interactive_.pop_front();
        return job;
    }

private:
    std::mutex mutex_;
    std::deque<std::function<void()>> interactive_, background_;
};

} // namespace esper::ui
