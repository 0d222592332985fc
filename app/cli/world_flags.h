// The flags that place a command among several workers (--world-size, --rank, --master,
// --rendezvous-timeout; else torchrun's environment), shared by the verbs that shard.
#pragma once

#include "args.h"

#include "distributed/world.h"

#include <vector>

namespace esper::cli {

extern const char* const kWorldFlagsHelp;
std::vector<OptionSpec> worldFlagSpecs();
Result<WorldOptions> worldFromFlags(const Args& args);

} // namespace esper::cli
