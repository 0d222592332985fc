// Workers meeting over LibTorch's c10d TCPStore (torch.distributed's own rendezvous): rank 0
// serves the store at MASTER, the others connect. Every wait has a deadline: a master that
// cannot be reached, a worker that never arrives or one started with another world size ends
// with a message that says which, never a hang.
#pragma once

#include "distributed/world.h"

#include <memory>
#include <string>

namespace esper {

class Rendezvous {
public:
    // `job` names what the workers run together; they must all name the same.
    static Result<std::unique_ptr<Rendezvous>> join(const WorldOptions& world,
                                                    const std::string& job);
    ~Rendezvous();

    // Waits until every worker has reached `name`. A worker counts as stopped when it has not
    // arrived and has shown no progress (beat) for the world's timeout (or `timeoutSeconds`
    // when > 0); the error names the stopped workers.
    Result<void> barrier(const std::string& name, double timeoutSeconds = 0);
    // Progress: a worker that beats is alive, however long its share takes.
    void beat();
    // Before the process ends: worker 0 serves the store, so it waits (briefly) until every
    // other worker has left it.
    void leave();
    const WorldOptions& world() const { return world_; }

    struct Impl; // distributed/rendezvous_store.h
    Impl& impl() { return *impl_; }

private:
    Rendezvous(WorldOptions world, std::unique_ptr<Impl> impl);
    WorldOptions world_;
    std::unique_ptr<Impl> impl_;
};

} // namespace esper
