#include "world_flags.h"

namespace esper::cli {

const char* const kWorldFlagsHelp =
    "  --world-size N --rank R --master ADDR:PORT\n"
    "                          run as worker R of N (or WORLD_SIZE, RANK, MASTER_ADDR,\n"
    "                          MASTER_PORT as torchrun sets them; esper launch starts N here)\n"
    "  --rendezvous-timeout S  how long to wait for the other workers (default 120)\n";

std::vector<OptionSpec> worldFlagSpecs() {
    return {{"world-size"}, {"rank"}, {"master"}, {"rendezvous-timeout"}};
}

Result<WorldOptions> worldFromFlags(const Args& args) {
    const double timeout = args.real("rendezvous-timeout", 0, 0.1, 86400);
    if (!args.problem().empty()) return fail(ErrorCode::InvalidInput, args.problem());
    return resolveWorld(args.get("world-size"), args.get("rank"), args.get("master"), timeout);
}

} // namespace esper::cli
