// The pieces data-parallel training stands on, in one process: where a worker is placed (flags,
// torchrun's environment, its GPU and its cores), how a batch's parts are shared out among the
// workers, and the exchanges of core/distributed/collectives.h between two workers on two
// threads over loopback: sums and maxima of several tensors at once, and a lost worker reported
// within the timeout instead of a hang.
#include <ATen/ATen.h>

#include "distributed/collectives.h"
#include "distributed/rendezvous.h"
#include "distributed/world.h"
#include "training/esper/rollout_parts.h"

#include <QElapsedTimer>
#include <QtTest>
#include <cstdlib>
#include <future>
#include <thread>

using namespace esper;

namespace {

WorldOptions worker(int rank, int port, double timeout = 10) {
    WorldOptions w;
    w.size = 2;
    w.rank = rank;
    w.masterPort = port;
    w.timeoutSeconds = timeout;
    return w;
}

// Both workers of a world of two, each on its own thread: `work(collectives)` returns its
// result, or a worker's set-up fails with its message.
template <class F> auto onTwoWorkers(int port, double timeout, F work) {
    using R = decltype(work(std::declval<Collectives&>(), 0));
    auto run = [&](int rank) -> Result<R> {
        auto rendezvous = Rendezvous::join(worker(rank, port, timeout), "test");
        ESPER_TRY(rendezvous);
        auto group = Collectives::join(**rendezvous);
        ESPER_TRY(group);
        R out = work(**group, rank);
        (*rendezvous)->leave();
        return out;
    };
    auto other = std::async(std::launch::async, run, 1);
    auto first = run(0);
    return std::make_pair(std::move(first), other.get());
}

// Why a worker of onTwoWorkers could not set up, for a failed check's message.
template <class R> QByteArray setUp(const Result<R>& a, const Result<R>& b) {
    return QByteArray("worker 0: ") + (a ? "ready" : a.error().c_str()) +
           "; worker 1: " + (b ? "ready" : b.error().c_str());
}

} // namespace

class TestDistributed : public QObject {
    Q_OBJECT

private slots:
    void aWorkersPlaceComesFromFlagsOrTheEnvironment() {
        auto w = resolveWorld("4", "3", "10.0.0.1:1234");
        QVERIFY(w);
        QCOMPARE(w->size, 4);
        QCOMPARE(w->rank, 3);
        QCOMPARE(QString::fromStdString(w->masterAddr), QString("10.0.0.1"));
        QCOMPARE(w->masterPort, 1234);
        QVERIFY(!resolveWorld("2", "2", ""));
        QVERIFY(!resolveWorld("2", "", ""));
        qputenv("WORLD_SIZE", "2");
        qputenv("RANK", "1");
        qputenv("LOCAL_RANK", "1");
        w = resolveWorld("", "", "");
        QVERIFY(w);
        QCOMPARE(w->rank, 1);
        // Plain "cuda" is this worker's own GPU; a named one stands; alone, nothing changes.
        QCOMPARE(QString::fromStdString(workerDevice("cuda", *w)), QString("cuda:1"));
        QCOMPARE(QString::fromStdString(workerDevice("cuda:0", *w)), QString("cuda:0"));
        QCOMPARE(QString::fromStdString(workerDevice("cpu", *w)), QString("cpu"));
        QCOMPARE(QString::fromStdString(workerDevice("cuda", WorldOptions{})), QString("cuda"));
        qunsetenv("WORLD_SIZE");
        qunsetenv("RANK");
        qunsetenv("LOCAL_RANK");
        qputenv("OMP_NUM_THREADS", "1");
        QCOMPARE(workerCores(), 1);
        qunsetenv("OMP_NUM_THREADS");
        QVERIFY(workerCores() >= 1);
    }

    // The kernel hands ports of its ephemeral range to every outgoing connection: a port
    // chosen for the rendezvous lies below it, so no connection can take it first.
    void aFreePortLiesBelowTheEphemeralRange() {
        QFile range("/proc/sys/net/ipv4/ip_local_port_range");
        if (!range.open(QIODevice::ReadOnly)) QSKIP("this kernel does not say its port range");
        const int first = QString(range.readAll()).split(QRegularExpression("\\s+"))[0].toInt();
        for (int i = 0; i < 20; ++i) {
            const int port = freeLoopbackPort();
            QVERIFY2(port > 1024 && port < first, QByteArray::number(port));
        }
    }

    void theBatchsPartsAreSharedOutEvenly() {
        const RolloutParts alone(2, nullptr);
        QCOMPARE(alone.myParts(), std::vector<int>({0, 1}));
        // Two parts of 7 rows: the first (7 + 1) / 2, as two threads always split them.
        QCOMPARE(alone.bounds(7, 0), std::make_pair(int64_t(0), int64_t(4)));
        QCOMPARE(alone.bounds(7, 1), std::make_pair(int64_t(4), int64_t(7)));
        const RolloutParts six(6, nullptr);
        int64_t covered = 0;
        for (int p = 0; p < 6; ++p) {
            const auto [from, to] = six.bounds(128, p);
            QCOMPARE(from, covered);
            QVERIFY(to - from == 21 || to - from == 22);
            covered = to;
        }
        QCOMPARE(covered, int64_t(128));
        const at::Tensor index = at::arange(10, 20, at::kLong);
        QCOMPARE(alone.slice(index, 1)[0].item<int64_t>(), int64_t(15));
        // Fewer rows than parts: some parts are empty, none overlap.
        int held = 0;
        for (int p = 0; p < 6; ++p) {
            const auto [from, to] = six.bounds(2, p);
            QVERIFY(to - from <= 1);
            held += int(to - from);
        }
        QCOMPARE(held, 2);
    }

    void twoWorkersSumAndTakeMaximaOfSeveralTensorsAtOnce() {
        if (!Collectives::available()) QSKIP("this build has no Gloo");
        const auto [a, b] = onTwoWorkers(freeLoopbackPort(), 20, [](Collectives& net, int rank) {
            std::vector<at::Tensor> t{at::full({2, 3}, float(rank + 1)),
                                      at::arange(4, at::kFloat) * float(rank)};
            at::Tensor peak = at::tensor({double(rank), 5.0 - rank}, at::kDouble);
            at::Tensor mixed = at::zeros({1}, at::kDouble);
            const bool summed = bool(net.sum(t, "two tensors"));
            const bool maxed = bool(net.max({peak}, "the peak"));
            const bool refused = !net.sum({t[0], mixed}, "mixed types");
            return std::vector<at::Tensor>{t[0], t[1], peak,
                                           at::tensor({double(summed && maxed && refused),
                                                       double(net.bytes()), net.seconds()})};
        });
        QVERIFY2(a && b, setUp(a, b).constData());
        for (const auto& r : {a.value(), b.value()}) {
            QVERIFY(at::equal(r[0], at::full({2, 3}, 3.0f)));
            QVERIFY(at::equal(r[1], at::arange(4, at::kFloat)));
            QVERIFY(at::equal(r[2], at::tensor({1.0, 5.0}, at::kDouble)));
            QCOMPARE(r[3][0].item<double>(), 1.0);
            QCOMPARE(r[3][1].item<double>(), double(10 * 4 + 2 * 8)); // floats, then doubles
            QVERIFY(r[3][2].item<double>() > 0);
        }
    }

    // A worker that stops closes its connections: the one left is told at once, long before
    // the timeout (generous here, so that meeting on a loaded machine never runs into it).
    void aLostWorkerEndsTheExchangeWithAMessage() {
        if (!Collectives::available()) QSKIP("this build has no Gloo");
        QElapsedTimer exchange;
        const auto [a, b] = onTwoWorkers(freeLoopbackPort(), 60, [&](Collectives& net, int rank) {
            if (rank == 1) return std::string(); // leaves without exchanging
            exchange.start();
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            at::Tensor t = at::ones({4});
            auto ok = net.sum({t}, "the gradients");
            return ok ? std::string("no error") : ok.error();
        });
        QVERIFY2(a && b, setUp(a, b).constData());
        QVERIFY2(a->find("lost the others while exchanging the gradients") != std::string::npos,
                 a->c_str());
        QVERIFY2(exchange.elapsed() < 20000, QByteArray::number(exchange.elapsed()) + " ms");
    }
};

QTEST_GUILESS_MAIN(TestDistributed)
#include "test_distributed.moc"
