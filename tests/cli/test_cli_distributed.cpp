// `esper caption` across workers over loopback: two workers (started by `esper launch`) give
// the records one worker gives, in the same order; a worker killed mid-run is reported with
// what it did not finish, and the same command run again captions only that; a bad
// rendezvous (nothing at the master's port, a worker that never comes, another world size)
// ends with a message within its timeout, never a hang.
#include "test_support.h"

#include "distributed/world.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <csignal>

namespace {

struct Run {
    int code = -1;
    QString err;
    qint64 ms = 0;
};

Run runEsper(const QStringList& args, int timeoutMs = 120000) {
    QProcess p;
    QElapsedTimer clock;
    clock.start();
    p.start(QStringLiteral(ESPER_CLI_PATH), args);
    p.waitForFinished(timeoutMs);
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1,
            QString::fromUtf8(p.readAllStandardError()), clock.elapsed()};
}

// The records without their timing, which differs from run to run.
QStringList records(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    QStringList out;
    for (const auto& line : f.readAll().split('\n')) {
        if (line.trimmed().isEmpty()) continue;
        QJsonObject o = QJsonDocument::fromJson(line).object();
        o.remove("ms");
        out << QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
    }
    return out;
}

int doneMarkers(const QString& dir) {
    int n = 0;
    for (const auto& part : QDir(dir).entryList({"out.jsonl.part-*"})) {
        QFile f(dir + "/" + part);
        if (f.open(QIODevice::ReadOnly)) n += int(f.readAll().count("esper_part_done"));
    }
    return n;
}

} // namespace

class TestCliDistributed : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;
    QString scenes_, reference_;

    QStringList caption(const QString& out) const {
        return {"caption", scenes_, "--bundle", ESPER_DEMO_BUNDLE_DIR, "--jsonl", out};
    }

private slots:
    void initTestCase() {
        scenes_ = tmp_.path() + "/scenes";
        const Run rendered = runEsper({"world", "render", "--out", scenes_, "--count", "24"});
        QVERIFY2(rendered.code == 0, qPrintable(rendered.err));
        reference_ = tmp_.path() + "/one.jsonl";
        const Run one = runEsper(caption(reference_));
        QVERIFY2(one.code == 0, qPrintable(one.err));
        QVERIFY(records(reference_).size() >= 24);
    }

    void twoWorkersGiveWhatOneGives() {
        const QString out = tmp_.path() + "/two.jsonl";
        const Run two = runEsper(QStringList{"launch", "--workers", "2", "--"} + caption(out));
        QVERIFY2(two.code == 0, qPrintable(two.err));
        QVERIFY(two.err.contains("worker 1 of 2: 12 of the 24 inputs left"));
        QCOMPARE(records(out), records(reference_));
        QVERIFY(QDir(tmp_.path()).entryList({"two.jsonl.part-*"}).isEmpty());
    }

    void aStoppedWorkerIsReportedAndARerunFinishesOnlyTheRest() {
        const QString dir = tmp_.path() + "/killed";
        QVERIFY(QDir().mkpath(dir));
        const QString out = dir + "/out.jsonl";
        const QString master = QString("127.0.0.1:%1").arg(esper::freeLoopbackPort());
        QProcess workers[2];
        for (int rank = 0; rank < 2; ++rank)
            workers[rank].start(QStringLiteral(ESPER_CLI_PATH),
                                caption(out) + QStringList{"--world-size", "2", "--rank",
                                                           QString::number(rank), "--master",
                                                           master, "--rendezvous-timeout", "4"});
        // Worker 1 is killed once the two have finished a few items between them.
        QElapsedTimer clock;
        clock.start();
        while (doneMarkers(dir) < 4 && clock.elapsed() < 60000)
            QTest::qWait(5);
        ::kill(pid_t(workers[1].processId()), SIGKILL);
        QVERIFY(workers[0].waitForFinished(60000));
        workers[1].waitForFinished(5000);
        const QString said = QString::fromUtf8(workers[0].readAllStandardError());
        QCOMPARE(workers[0].exitCode(), 1);
        const QRegularExpression missing("(\\d+) input\\(s\\) not captioned yet");
        const auto match = missing.match(said);
        QVERIFY2(match.hasMatch() && said.contains("worker(s) 1"), qPrintable(said));
        const int left = match.captured(1).toInt();
        QVERIFY(left > 0 && left < 24);
        QVERIFY(!QFile::exists(out));
        // The same command, one worker this time: only the unfinished inputs.
        const Run rerun = runEsper(caption(out));
        QVERIFY2(rerun.code == 0, qPrintable(rerun.err));
        QVERIFY2(rerun.err.contains(QString("%1 of the %1 inputs left (of 24)").arg(left)),
                 qPrintable(rerun.err));
        QCOMPARE(records(out), records(reference_));
        QVERIFY(QDir(dir).entryList({"out.jsonl.part-*"}).isEmpty());
    }

    void aBadRendezvousEndsWithinItsTimeout() {
        const QString out = tmp_.path() + "/bad.jsonl";
        auto worker = [&](int size, int rank, int port) {
            return caption(out) + QStringList{"--world-size",
                                              QString::number(size),
                                              "--rank",
                                              QString::number(rank),
                                              "--master",
                                              QString("127.0.0.1:%1").arg(port),
                                              "--rendezvous-timeout",
                                              "2"};
        };
        // Nothing at the master's port.
        Run r = runEsper(worker(2, 1, esper::freeLoopbackPort()), 30000);
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("could not reach the rendezvous"), qPrintable(r.err));
        QVERIFY(r.ms < 15000);
        // A worker that never comes.
        r = runEsper(worker(2, 0, esper::freeLoopbackPort()), 30000);
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("worker(s) 1 did not reach"), qPrintable(r.err));
        QVERIFY(r.ms < 15000);
        // Two workers started with different world sizes.
        const int port = esper::freeLoopbackPort();
        QProcess other;
        other.start(QStringLiteral(ESPER_CLI_PATH), worker(3, 1, port));
        r = runEsper(worker(2, 0, port), 30000);
        QVERIFY(other.waitForFinished(30000));
        QCOMPARE(r.code, 1);
        QCOMPARE(other.exitCode(), 1);
        QVERIFY2(QString::fromUtf8(other.readAllStandardError()).contains("world 3"),
                 "the worker with the other world size says so");
    }
};

QTEST_GUILESS_MAIN(TestCliDistributed)
#include "test_cli_distributed.moc"
