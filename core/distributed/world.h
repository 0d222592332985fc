// Which worker this process is among how many, and where they meet: from the command line
// (--world-size, --rank, --master ADDR:PORT) or from the environment cluster launchers and
// torchrun set (WORLD_SIZE, RANK, LOCAL_RANK, MASTER_ADDR, MASTER_PORT); flags win.
#pragma once

#include "util/result.h"

#include <string>

namespace esper {

struct WorldOptions {
    int size = 1, rank = 0, localRank = 0;
    std::string masterAddr = "127.0.0.1";
    int masterPort = 29500;
    double timeoutSeconds = 120; // for meeting the others, and for each later barrier
    bool distributed() const { return size > 1; }
    std::string master() const { return masterAddr + ":" + std::to_string(masterPort); }
};

// A port on 127.0.0.1 that is free now and that the kernel will not hand to anyone else: one
// below its range of ephemeral ports, so no outgoing connection or bind to port 0 elsewhere can
// take it before the rendezvous binds it. 0 if there is none.
int freeLoopbackPort();

// The cores this process may use: OMP_NUM_THREADS where a launcher shared the machine's out
// (esper launch and torchrun set it), else the machine's.
int workerCores();

// The device a worker runs on: plain "cuda" among several workers means this worker's own GPU,
// cuda:LOCAL_RANK (one worker per GPU, as torchrun places them); anything else stands.
std::string workerDevice(const std::string& device, const WorldOptions& world);

// Flags as given (empty: not given); timeout <= 0 keeps the default.
Result<WorldOptions> resolveWorld(const std::string& worldSize, const std::string& rank,
                                  const std::string& master, double timeoutSeconds = 0);

} // namespace esper
