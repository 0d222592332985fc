// Runs a decode step again and again. On CUDA, in a build against a CUDA LibTorch, a whole
// decode runs on a stream of its own: the first step runs as it is (so the kernels, cuBLAS and
// the allocator are warm), the second is recorded into a CUDA graph, and every step after that
// replays the graph, one launch instead of a few hundred. Elsewhere, or with
// ESPER_CUDA_GRAPHS=0, each call simply runs the step.
#pragma once

#include <c10/core/Device.h>
#include <functional>
#include <memory>

namespace esper {

class StepReplay {
public:
    // Makes the decode's stream current on a CUDA device until destruction, which leaves the
    // caller's stream waiting for everything the decode queued.
    explicit StepReplay(c10::Device device);
    ~StepReplay();
    StepReplay(const StepReplay&) = delete;
    StepReplay& operator=(const StepReplay&) = delete;

    // `step` must do the same work on every call, on tensors that outlive this object and that
    // it changes only in place: a graph keeps their addresses.
    void run(const std::function<void()>& step);
    // Whether steps are being replayed from a graph (from the third call on).
    bool replaying() const;
    // Whether this build can record CUDA graphs at all.
    static bool graphsCompiledIn();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace esper
