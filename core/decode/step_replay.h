// Running a decode step again and again, as cheaply as the device allows. On CUDA, in a build
// against a CUDA LibTorch, the first step runs as it is (so the kernels, cuBLAS and the
// allocator are warm), the second is recorded into a CUDA graph, and every step after that
// replays the graph: one launch instead of a few hundred. Elsewhere, or with
// ESPER_CUDA_GRAPHS=0, each call simply runs the step.
#pragma once

#include <c10/core/Device.h>
#include <functional>
#include <memory>

namespace esper {

// A stream of the decode's own, current on a CUDA device while this lives (graphs can only be
// recorded on a stream other than the default one); at the end the caller's stream waits for
// everything queued on it. Does nothing on other devices.
class DecodeStream {
public:
    explicit DecodeStream(c10::Device device);
    ~DecodeStream();
    DecodeStream(const DecodeStream&) = delete;
    DecodeStream& operator=(const DecodeStream&) = delete;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

class StepReplay {
public:
    explicit StepReplay(c10::Device device);
    ~StepReplay();
    StepReplay(const StepReplay&) = delete;
    StepReplay& operator=(const StepReplay&) = delete;

    // `step` must do the same work on every call, on tensors that outlive this object and that
    // it changes only in place: a graph keeps their addresses. Run under a DecodeStream.
    void run(const std::function<void()>& step);
    // Whether steps are replayed from a recorded graph.
    bool replaying() const;
    // Whether this build can record CUDA graphs at all.
    static bool graphsCompiledIn();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace esper
