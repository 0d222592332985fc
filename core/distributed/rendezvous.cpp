#include "distributed/rendezvous.h"

#include "distributed/rendezvous_store.h"

#include <c10/util/Exception.h>
#include <chrono>
#include <thread>

namespace esper {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<uint8_t> bytes(const std::string& s) {
    return {s.begin(), s.end()};
}

std::string text(const std::vector<uint8_t>& b) {
    return {b.begin(), b.end()};
}

} // namespace

Rendezvous::Rendezvous(WorldOptions world, std::unique_ptr<Impl> impl)
    : world_(std::move(world)), impl_(std::move(impl)) {}

Rendezvous::~Rendezvous() = default;

Result<std::unique_ptr<Rendezvous>> Rendezvous::join(const WorldOptions& w,
                                                     const std::string& job) {
    auto impl = std::make_unique<Impl>();
    c10d::TCPStoreOptions o;
    o.port = static_cast<std::uint16_t>(w.masterPort);
    o.isServer = w.rank == 0;
    o.numWorkers = static_cast<std::size_t>(w.size);
    o.waitWorkers = false; // our own barrier says who is missing
    o.timeout = std::chrono::milliseconds(static_cast<int64_t>(w.timeoutSeconds * 1000));
    try {
        impl->store = c10::make_intrusive<c10d::TCPStore>(w.masterAddr, o);
    } catch (const std::exception& e) {
        const std::string why = e.what();
        const std::string first = why.substr(0, why.find('\n'));
        if (w.rank == 0)
            return fail("worker 0 cannot serve the rendezvous at " + w.master() + ": " + first +
                        " (is another run using that port? choose one with --master)");
        return fail("worker " + std::to_string(w.rank) + " could not reach the rendezvous at " +
                    w.master() + " within " + std::to_string(int(w.timeoutSeconds)) +
                    " s: is worker 0 running, and is the address right? (" + first + ")");
    }
    // Every worker must have been started for the same job in the same world.
    const std::string mine = job + " / world " + std::to_string(w.size);
    try {
        if (w.rank == 0) {
            impl->store->set("esper/job", bytes(mine));
        } else {
            const std::string theirs = text(impl->store->get("esper/job"));
            if (theirs != mine)
                return fail("worker " + std::to_string(w.rank) + " was started as '" + mine +
                            "', worker 0 as '" + theirs +
                            "': start every worker with the same world size and command");
        }
    } catch (const std::exception& e) {
        return fail("worker " + std::to_string(w.rank) + " found no job at the rendezvous " +
                    w.master() + " within " + std::to_string(int(w.timeoutSeconds)) + " s");
    }
    std::unique_ptr<Rendezvous> r(new Rendezvous(w, std::move(impl)));
    ESPER_TRY(r->barrier("joined"));
    return r;
}

void Rendezvous::beat() {
    try {
        impl_->store->add("esper/beat/" + std::to_string(world_.rank), 1);
    } catch (const std::exception&) {
        // A lost store shows at the next barrier, with its message.
    }
}

void Rendezvous::leave() {
    try {
        if (world_.rank != 0) {
            impl_->store->set("esper/left/" + std::to_string(world_.rank), bytes("1"));
            return;
        }
        const auto deadline = Clock::now() + std::chrono::seconds(10);
        for (int r = 1; r < world_.size && Clock::now() < deadline; ++r)
            while (!impl_->store->check({"esper/left/" + std::to_string(r)}) &&
                   Clock::now() < deadline)
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } catch (const std::exception&) {
    }
}

Result<void> Rendezvous::barrier(const std::string& name, double timeoutSeconds) {
    const double limit = timeoutSeconds > 0 ? timeoutSeconds : world_.timeoutSeconds;
    const auto stall = std::chrono::milliseconds(int64_t(limit * 1000));
    const std::string key = "esper/barrier/" + name;
    auto arrived = [&](int r) { return impl_->store->check({key + "/" + std::to_string(r)}); };
    try {
        impl_->store->set(key + "/" + std::to_string(world_.rank), bytes("1"));
        impl_->store->add(key, 1);
        // Each missing worker's last beat, and when it changed.
        std::vector<int64_t> beats(size_t(world_.size), -1);
        std::vector<Clock::time_point> changed(size_t(world_.size), Clock::now());
        while (impl_->store->add(key, 0) < world_.size) {
            std::string stopped;
            for (int r = 0; r < world_.size; ++r) {
                if (arrived(r)) continue;
                const int64_t b = impl_->store->add("esper/beat/" + std::to_string(r), 0);
                if (b != beats[size_t(r)]) {
                    beats[size_t(r)] = b;
                    changed[size_t(r)] = Clock::now();
                } else if (Clock::now() - changed[size_t(r)] > stall) {
                    stopped += (stopped.empty() ? "" : ", ") + std::to_string(r);
                }
            }
            if (!stopped.empty())
                return fail("worker(s) " + stopped + " did not reach '" + name +
                            "' and showed no progress for " + std::to_string(int(limit)) +
                            " s (of a world of " + std::to_string(world_.size) + ")");
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    } catch (const std::exception& e) {
        const std::string why = e.what();
        return fail("the rendezvous at " + world_.master() + " was lost during '" + name +
                    "': " + why.substr(0, why.find('\n')) + " (did worker 0 stop?)");
    }
    return {};
}

} // namespace esper
