#include "distributed/world.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cstdlib>
#include <fstream>
#include <netinet/in.h>
#include <optional>
#include <random>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace esper {

std::string workerDevice(const std::string& device, const WorldOptions& world) {
    if (device != "cuda" || !world.distributed()) return device;
    return "cuda:" + std::to_string(world.localRank);
}

namespace {

// Binds 127.0.0.1:`port` (0: the kernel's choice) and returns the port bound, 0 if it cannot.
int bindLoopback(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    socklen_t length = sizeof addr;
    int bound = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0)
        bound = ntohs(addr.sin_port);
    ::close(fd);
    return bound;
}

// The first of the kernel's ephemeral ports (Linux's default where it cannot be read).
int firstEphemeralPort() {
    std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
    int first = 0;
    if (range >> first && first > 1024 && first <= 65535) return first;
    return 32768;
}

} // namespace

int freeLoopbackPort() {
    // A port the kernel handed out once (bind to port 0) is free only until another process
    // connects anywhere and is given it as its own side of the connection; with training
    // workers connecting to each other that happened. Ports below the ephemeral range are
    // never handed out, only taken by name.
    const int end = firstEphemeralPort();
    const int begin = std::max(1025, end - 12000);
    if (end - begin >= 100) {
        std::mt19937 pick(std::random_device{}());
        std::uniform_int_distribution<int> port(begin, end - 1);
        for (int attempt = 0; attempt < 64; ++attempt)
            if (const int p = bindLoopback(port(pick))) return p;
    }
    return bindLoopback(0);
}

int workerCores() {
    if (const char* omp = std::getenv("OMP_NUM_THREADS"); omp && *omp) {
        const int n = std::atoi(omp);
        if (n > 0) return n;
    }
    return std::max(1, int(std::thread::hardware_concurrency()));
}
namespace {

std::optional<long long> whole(const std::string& text) {
    if (text.empty() || text.size() > 9) return std::nullopt;
    for (char c : text)
        if (c < '0' || c > '9') return std::nullopt;
    return std::stoll(text);
}

// `text` as a whole number in [least, most], else the error `why`.
Result<int> wholeIn(const std::string& text, long long least, long long most,
                    const std::string& why) {
    const auto n = whole(text);
    if (!n || *n < least || *n > most) return fail(ErrorCode::InvalidInput, why);
    return int(*n);
}

std::string fromEnv(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

} // namespace

Result<WorldOptions> resolveWorld(const std::string& worldSizeFlag, const std::string& rankFlag,
                                  const std::string& masterFlag, double timeoutSeconds) {
    WorldOptions w;
    const std::string size = worldSizeFlag.empty() ? fromEnv("WORLD_SIZE") : worldSizeFlag;
    const std::string rank = rankFlag.empty() ? fromEnv("RANK") : rankFlag;
    const std::string local = fromEnv("LOCAL_RANK");
    if (!size.empty()) {
        auto n = wholeIn(size, 1, 4096,
                         "the world size must be a whole number 1..4096, not '" + size + "'");
        ESPER_TRY(n);
        w.size = n.value();
    }
    if (!rank.empty()) {
        auto r = wholeIn(rank, 0, w.size - 1,
                         "the rank must be 0.." + std::to_string(w.size - 1) + " in a world of " +
                             std::to_string(w.size) + ", not '" + rank + "'");
        ESPER_TRY(r);
        w.rank = r.value();
    } else if (w.size > 1) {
        return fail(ErrorCode::InvalidInput, "a world of " + std::to_string(w.size) +
                                                 " workers needs each one's rank (--rank or RANK)");
    }
    if (const auto l = whole(local)) w.localRank = int(*l);
    std::string addr = fromEnv("MASTER_ADDR"), port = fromEnv("MASTER_PORT");
    if (!masterFlag.empty()) {
        const auto colon = masterFlag.rfind(':');
        if (colon == std::string::npos)
            return fail(ErrorCode::InvalidInput,
                        "--master takes ADDR:PORT, such as 127.0.0.1:29500, not '" + masterFlag +
                            "'");
        addr = masterFlag.substr(0, colon);
        port = masterFlag.substr(colon + 1);
    }
    if (!addr.empty()) w.masterAddr = addr;
    if (!port.empty()) {
        auto p = wholeIn(port, 1, 65535, "the master's port must be 1..65535, not '" + port + "'");
        ESPER_TRY(p);
        w.masterPort = p.value();
    }
    if (timeoutSeconds > 0) w.timeoutSeconds = timeoutSeconds;
    return w;
}

} // namespace esper
