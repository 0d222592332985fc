#include "decode/step_replay.h"

#include <cstdlib>
#include <cstring>

#ifdef ESPER_WITH_CUDA_GRAPHS
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#endif

namespace esper {

#ifdef ESPER_WITH_CUDA_GRAPHS

struct DecodeStream::Impl {
    explicit Impl(c10::Device device)
        : guard(device), previous(at::cuda::getCurrentCUDAStream(device.index())),
          stream(at::cuda::getStreamFromPool(false, device.index())) {}
    c10::cuda::CUDAGuard guard;
    at::cuda::CUDAStream previous, stream;
};

DecodeStream::DecodeStream(c10::Device device) {
    if (!device.is_cuda()) return;
    impl_ = std::make_unique<Impl>(device);
    // The decode's stream starts after whatever the caller has queued (features, prompts).
    at::cuda::CUDAEvent ready;
    ready.record(impl_->previous);
    ready.block(impl_->stream);
    at::cuda::setCurrentCUDAStream(impl_->stream);
}

DecodeStream::~DecodeStream() {
    if (!impl_) return;
    at::cuda::CUDAEvent done;
    done.record(impl_->stream);
    done.block(impl_->previous);
    at::cuda::setCurrentCUDAStream(impl_->previous);
}

struct StepReplay::Impl {
    std::unique_ptr<at::cuda::CUDAGraph> graph;
    int calls = 0;
    bool graphs = true;
};

StepReplay::StepReplay(c10::Device device) {
    if (!device.is_cuda()) return;
    impl_ = std::make_unique<Impl>();
    const char* env = std::getenv("ESPER_CUDA_GRAPHS");
    impl_->graphs = !(env && std::strcmp(env, "0") == 0);
}

StepReplay::~StepReplay() = default;

void StepReplay::run(const std::function<void()>& step) {
    if (!impl_ || !impl_->graphs || impl_->calls++ == 0) {
        step();
        return;
    }
    if (!impl_->graph) {
        // Recording runs nothing: the replay below is the step's first run from the graph.
        impl_->graph = std::make_unique<at::cuda::CUDAGraph>();
        // Thread-local: ESPER's rollouts decode two parts on two threads, and another
        // thread's allocation must not end this thread's recording.
        impl_->graph->capture_begin({0, 0}, cudaStreamCaptureModeThreadLocal);
        try {
            step();
        } catch (...) {
            // End the recording so the stream works again; later steps run without a graph.
            try {
                impl_->graph->capture_end();
            } catch (...) {
            }
            impl_->graph.reset();
            impl_->graphs = false;
            throw;
        }
        impl_->graph->capture_end();
    }
    impl_->graph->replay();
}

bool StepReplay::replaying() const {
    return impl_ && impl_->graph;
}

bool StepReplay::graphsCompiledIn() {
    return true;
}

#else

struct DecodeStream::Impl {};
DecodeStream::DecodeStream(c10::Device) {}
DecodeStream::~DecodeStream() = default;

struct StepReplay::Impl {};
StepReplay::StepReplay(c10::Device) {}
StepReplay::~StepReplay() = default;
void StepReplay::run(const std::function<void()>& step) {
    step();
}
bool StepReplay::replaying() const {
    return false;
}
bool StepReplay::graphsCompiledIn() {
    return false;
}

#endif

} // namespace esper
