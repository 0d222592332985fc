// A second thread kept for a whole training run, to do one piece of work beside the caller's:
// the halves of a sharded step, or ESPER's value model beside its policy. A thread started per
// step cost its allocations page faults and its thread-local set-up every time.
#pragma once

#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace esper {

class HelperThread {
public:
    HelperThread() = default;
    ~HelperThread(); // joins the thread
    HelperThread(const HelperThread&) = delete;
    HelperThread& operator=(const HelperThread&) = delete;

    // Runs `helper` on the helper thread and `here` on the calling one, and returns when both
    // are done; an exception from either is rethrown here, after both have ended. With
    // `parallel` false both run here, `helper` first.
    void runBeside(const std::function<void()>& helper, const std::function<void()>& here,
                   bool parallel = true);

private:
    void serve();

    std::thread thread_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::function<void()> job_; // set: the helper's to run; cleared when it is done
    std::exception_ptr jobError_;
    bool stopping_ = false;
};

// Whether this machine has a core for a helper thread.
bool helperCoreAvailable();

} // namespace esper
