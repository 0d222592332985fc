#include "distributed/collectives.h"

#include "distributed/rendezvous_store.h"

#include <ATen/ATen.h>
#include <chrono>
#include <cstdlib>

#ifdef ESPER_WITH_GLOO
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif

namespace esper {

#ifdef ESPER_WITH_GLOO
struct Collectives::Group {
    c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
    std::chrono::milliseconds timeout{0};
};

bool Collectives::available() {
    return true;
}
#else
struct Collectives::Group {};

bool Collectives::available() {
    return false;
}
#endif

Collectives::Collectives(int rank, int size, std::unique_ptr<Group> group)
    : rank_(rank), size_(size), group_(std::move(group)) {}

Collectives::~Collectives() = default;

Result<std::unique_ptr<Collectives>> Collectives::join(Rendezvous& rendezvous) {
    const WorldOptions& w = rendezvous.world();
#ifdef ESPER_WITH_GLOO
    auto group = std::make_unique<Group>();
    group->timeout = std::chrono::milliseconds(int64_t(w.timeoutSeconds * 1000));
    try {
        auto options = c10d::ProcessGroupGloo::Options::create();
        options->timeout = group->timeout;
        // Gloo binds to one interface: the one GLOO_SOCKET_IFNAME names (as torch.distributed
        // reads it), loopback for a run on this machine, else the one the host name resolves to.
        const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
        const bool local = w.masterAddr == "127.0.0.1" || w.masterAddr == "localhost";
        options->devices.push_back(
            ifname && *ifname ? c10d::ProcessGroupGloo::createDeviceForInterface(ifname)
            : local           ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                              : c10d::ProcessGroupGloo::createDefaultDevice());
        auto store = c10::make_intrusive<c10d::PrefixStore>("esper/gloo", rendezvous.impl().store);
        group->group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, w.rank, w.size, options);
    } catch (const std::exception& e) {
        const std::string why = e.what();
        return fail("worker " + std::to_string(w.rank) + " could not connect to the others for " +
                    "the exchanges (Gloo): " + why.substr(0, why.find('\n')));
    }
    return std::unique_ptr<Collectives>(new Collectives(w.rank, w.size, std::move(group)));
#else
    (void)w;
    return fail("this build of ESPER Studio has no Gloo, which several training workers "
                "exchange gradients through: install libgloo-dev and build again");
#endif
}

Result<void> Collectives::sum(const std::vector<at::Tensor>& tensors, const std::string& what) {
    return reduce(tensors, what, false);
}

Result<void> Collectives::max(const std::vector<at::Tensor>& tensors, const std::string& what) {
    return reduce(tensors, what, true);
}

Result<void> Collectives::reduce(const std::vector<at::Tensor>& tensors, const std::string& what,
                                 bool max) {
    if (tensors.empty() || size_ == 1) return {};
#ifdef ESPER_WITH_GLOO
    const auto began = std::chrono::steady_clock::now();
    const auto type = tensors.front().scalar_type();
    // One buffer for the whole list: one exchange's latency instead of one per tensor.
    std::vector<at::Tensor> flat;
    for (const auto& t : tensors) {
        if (t.scalar_type() != type)
            return fail("the exchange of " + what + " mixes number types (a program error)");
        flat.push_back(t.detach().reshape(-1).to(at::kCPU));
    }
    std::vector<at::Tensor> buffer{at::cat(flat)};
    try {
        c10d::AllreduceOptions options;
        options.reduceOp = max ? c10d::ReduceOp::MAX : c10d::ReduceOp::SUM;
        options.timeout = group_->timeout;
        group_->group->allreduce(buffer, options)->wait(group_->timeout);
    } catch (const std::exception& e) {
        const std::string why = e.what();
        return fail("worker " + std::to_string(rank_) + " lost the others while exchanging " +
                    what + " (a worker stopped, or showed no progress for " +
                    std::to_string(group_->timeout.count() / 1000) +
                    " s): " + why.substr(0, why.find('\n')));
    }
    int64_t offset = 0;
    for (const auto& t : tensors) {
        const int64_t n = t.numel();
        t.detach().copy_(buffer[0].narrow(0, offset, n).view(t.sizes()));
        offset += n;
    }
    bytes_ += buffer[0].numel() * int64_t(buffer[0].element_size());
    seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    return {};
#else
    (void)what;
    (void)max;
    return fail("this build has no Gloo");
#endif
}

} // namespace esper
