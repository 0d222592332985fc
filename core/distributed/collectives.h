// What data-parallel training exchanges: sums (and maxima) of tensors across the workers of a
// run, on LibTorch's c10d ProcessGroupGloo (torch.distributed's CPU backend) over the
// rendezvous's own store. Every exchange has the world's deadline; a worker that stopped ends it
// with a message that says so, never a hang.
#pragma once

#include "distributed/rendezvous.h"

#include <memory>
#include <string>
#include <vector>

namespace at {
class Tensor; // declared only: a launcher can join without LibTorch's headers
}

namespace esper {

class Collectives {
public:
    // Whether this build has Gloo (libgloo-dev's headers at configure time).
    static bool available();
    static Result<std::unique_ptr<Collectives>> join(Rendezvous& rendezvous);
    ~Collectives();

    int rank() const { return rank_; }
    int size() const { return size_; }
    // Replaces each tensor with the elementwise sum of every worker's, in one exchange; the
    // tensors share one floating-point type and may live on any device. `what` names the
    // exchange in errors.
    Result<void> sum(const std::vector<at::Tensor>& tensors, const std::string& what);
    Result<void> max(const std::vector<at::Tensor>& tensors, const std::string& what);
    // Time spent in exchanges and the bytes this worker contributed to them, since joining.
    double seconds() const { return seconds_; }
    int64_t bytes() const { return bytes_; }

private:
    struct Group;
    Collectives(int rank, int size, std::unique_ptr<Group> group);
    Result<void> reduce(const std::vector<at::Tensor>& tensors, const std::string& what, bool max);

    int rank_ = 0, size_ = 1;
    std::unique_ptr<Group> group_;
    double seconds_ = 0;
    int64_t bytes_ = 0;
};

} // namespace esper
