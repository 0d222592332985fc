// `esper launch --workers N -- COMMAND...`: N workers of one esper command on this machine,
// each told its place as torchrun tells it (WORLD_SIZE, RANK, LOCAL_RANK, MASTER_ADDR,
// MASTER_PORT) and meeting on a free port of 127.0.0.1.
#include "args.h"
#include "verbs.h"

#include "distributed/world.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace esper::cli {
namespace {

const char* kHelp =
    "usage: esper launch --workers N [--port P] -- COMMAND [ARGS...]\n\n"
    "Starts N workers of an esper command (`esper caption ... --jsonl FILE`) on this machine.\n"
    "Each gets WORLD_SIZE=N, RANK and LOCAL_RANK (0..N-1), MASTER_ADDR=127.0.0.1 and\n"
    "MASTER_PORT (--port, else a free one), as torchrun sets them, and the cores shared out\n"
    "(OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, ESPER_KERNEL_THREADS; yours are kept). COMMAND\n"
    "may start with \"esper\" or with the verb. Exits with the first failing worker's status,\n"
    "0 when all succeed; when one fails the others end on their own and report it.\n";

} // namespace

int runLaunch(int argc, char** argv) {
    int split = 0;
    for (int i = 1; i < argc; ++i)
        if (!std::strcmp(argv[i], "--")) {
            split = i;
            break;
        }
    Args args;
    if (auto stop = args.parseVerb(split ? split : argc, argv, "launch", kHelp,
                                   {{"workers", true, false, true}, {"port"}}))
        return *stop;
    const int workers = int(args.integer("workers", 1, 1, 256));
    int port = int(args.integer("port", 0, 1, 65535));
    if (!args.problem().empty()) return report("launch", args.problem(), 2, kHelp);
    if (!split || split + 1 >= argc)
        return report("launch", "give the command after --, e.g. -- caption DIR --jsonl out.jsonl",
                      2, kHelp);
    if (!port) port = freeLoopbackPort();
    if (!port) return report("launch", "no free port on 127.0.0.1", 1);
    std::vector<std::string> command{"/proc/self/exe"};
    int first = split + 1;
    if (!std::strcmp(argv[first], "esper")) ++first;
    for (int i = first; i < argc; ++i)
        command.push_back(argv[i]);
    char self[4096];
    const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return report("launch", "cannot find the esper executable", 1);
    self[n] = 0;
    command[0] = self;
    // Ctrl+C reaches the whole process group, workers included: each stops as it would alone
    // (its checkpoint written), and the launcher waits for them rather than leave them behind.
    // A SIGTERM to the launcher alone is passed on to them.
    ::signal(SIGINT, SIG_IGN);
    static std::vector<pid_t> pids;
    pids.reserve(size_t(workers)); // never reallocated under the handler
    ::signal(SIGTERM, [](int) {
        for (pid_t pid : pids)
            ::kill(pid, SIGTERM);
    });
    for (int rank = 0; rank < workers; ++rank) {
        const pid_t pid = ::fork();
        if (pid < 0)
            return report("launch", std::string("cannot start a worker: ") + std::strerror(errno),
                          1);
        if (pid == 0) {
            ::signal(SIGINT, SIG_DFL);
            ::signal(SIGTERM, SIG_DFL);
            ::setenv("WORLD_SIZE", std::to_string(workers).c_str(), 1);
            ::setenv("RANK", std::to_string(rank).c_str(), 1);
            ::setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
            ::setenv("MASTER_ADDR", "127.0.0.1", 1);
            ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
            // The cores shared out, as torchrun does: N workers each threading over every core
            // would oversubscribe them. A setting the user made is kept.
            const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
            const std::string each = std::to_string(std::max(1u, cores / unsigned(workers)));
            for (const char* name :
                 {"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "ESPER_KERNEL_THREADS"})
                ::setenv(name, each.c_str(), 0);
            std::vector<char*> argvChild;
            for (auto& part : command)
                argvChild.push_back(part.data());
            argvChild.push_back(nullptr);
            ::execv(self, argvChild.data());
            std::fprintf(stderr, "esper launch: cannot run %s: %s\n", self, std::strerror(errno));
            ::_exit(127);
        }
        pids.push_back(pid);
    }
    std::fprintf(stderr, "esper launch: %d workers meeting at 127.0.0.1:%d\n", workers, port);
    int code = 0;
    for (size_t rank = 0; rank < pids.size(); ++rank) {
        int status = 0;
        while (::waitpid(pids[rank], &status, 0) < 0 && errno == EINTR) {
        }
        const int exit = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (exit != 0) {
            std::fprintf(stderr, "esper launch: worker %zu ended with status %d\n", rank, exit);
            if (code == 0) code = exit;
        }
    }
    return code;
}

} // namespace esper::cli
