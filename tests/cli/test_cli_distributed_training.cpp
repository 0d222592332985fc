// `esper train esper` across workers over loopback, with every PPO term on (value model, GAE,
// the policy loss from the first iteration): two workers, each sampling and evaluating half of
// every 128-row batch, take the steps one worker takes with the whole batch (the mapper equal
// within float round-off after several iterations); the same run twice gives the same bits; a
// checkpoint two workers wrote resumes with one; a number of workers that does not divide the
// batch's parts is refused before anything runs; a worker that never comes ends the run within
// the rendezvous timeout.
#include "test_support.h"

#include "distributed/world.h"
#include "io/safetensors.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace {

struct Run {
    int code = -1;
    QString err;
};

Run runEsper(const QStringList& args) {
    QProcess p;
    p.start(QStringLiteral(ESPER_CLI_PATH), args);
    p.waitForFinished(600000);
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1,
            QString::fromUtf8(p.readAllStandardError())};
}

using Weights = std::map<std::string, std::vector<float>>;

Weights mapperOf(const QString& bundle) {
    Weights out;
    auto file = esper::SafetensorsFile::open((bundle + "/mapper.safetensors").toStdString());
    if (!file) return out;
    for (const auto& t : file->tensors()) {
        std::vector<float> values(size_t(t.end - t.begin) / sizeof(float));
        std::memcpy(values.data(), file->bytes(t), values.size() * sizeof(float));
        out[t.name] = std::move(values);
    }
    return out;
}

// The largest difference of any weight, relative to the largest weight of its tensor.
double largestDifference(const Weights& a, const Weights& b) {
    if (a.empty() || a.size() != b.size()) return INFINITY;
    double worst = 0;
    for (const auto& [name, x] : a) {
        const auto it = b.find(name);
        if (it == b.end() || it->second.size() != x.size()) return INFINITY;
        double scale = 1e-12, diff = 0;
        for (size_t i = 0; i < x.size(); ++i) {
            scale = std::max(scale, double(std::abs(x[i])));
            diff = std::max(diff, double(std::abs(x[i] - it->second[i])));
        }
        worst = std::max(worst, diff / scale);
    }
    return worst;
}

QJsonObject lastLogLine(const QString& bundle) {
    QFile f(bundle + "/esper-train.jsonl");
    if (!f.open(QIODevice::ReadOnly)) return {};
    const auto lines = f.readAll().trimmed().split('\n');
    return QJsonDocument::fromJson(lines.last()).object();
}

} // namespace

class TestCliDistributedTraining : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;
    Weights one_;

    // The demo bundle on the world, every PPO term from the first iteration, small responses.
    static QStringList training(const QString& out, int iterations) {
        QStringList a{"train",
                      "esper",
                      "--bundle",
                      ESPER_DEMO_BUNDLE_DIR,
                      "--world",
                      "--out",
                      out,
                      "--iterations",
                      QString::number(iterations),
                      "--seed",
                      "5",
                      "--checkpoint-every",
                      "0"};
        for (const char* s : {"batch_size=128", "response_length=12", "minibatches=4",
                              "ppo_epochs=2", "kl_only_until=0", "reference_rollouts_until=0",
                              "goal_from=0", "advantage=\"gae\"", "eval_every=0"})
            a << "--set" << s;
        return a;
    }
    static QStringList twoWorkers(const QStringList& command) {
        return QStringList{"launch", "--workers", "2", "--"} + command;
    }

private slots:
    void initTestCase() {
        const QString out = tmp_.path() + "/one";
        const Run r = runEsper(training(out, 3));
        QVERIFY2(r.code == 0, qPrintable(r.err));
        one_ = mapperOf(out);
        QVERIFY(!one_.empty());
    }

    void twoWorkersTakeTheStepsOneTakes() {
        const QString out = tmp_.path() + "/two";
        const Run r = runEsper(twoWorkers(training(out, 3)));
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const double diff = largestDifference(mapperOf(out), one_);
        QVERIFY2(diff < 1e-5, qPrintable(QString("largest relative difference %1").arg(diff)));
        // Worker 0 logged the run, with what the exchanges cost.
        const QJsonObject last = lastLogLine(out);
        QCOMPARE(last["workers"].toInt(), 2);
        // At least the policy's and the value model's mappers' gradients, at each of the
        // iteration's optimizer steps (the value model's LM copy and head come on top).
        const int steps = 4 * 2; // minibatches x ppo_epochs, as training() sets them
        const int mappers = 2;   // the policy's and the value model's
        double mapperBytes = 0;
        for (const auto& [name, values] : mapperOf(ESPER_DEMO_BUNDLE_DIR))
            mapperBytes += double(values.size() * sizeof(float));
        const double exchanged = last["exchange_megabytes"].toDouble() * 1e6;
        const double leastExpected = steps * mappers * mapperBytes;
        QVERIFY2(
            exchanged >= leastExpected,
            qPrintable(QString("exchanged %1 bytes in the last iteration, expected at least %2")
                           .arg(exchanged)
                           .arg(leastExpected)));
        QCOMPARE(last["episodes"].toInt(), 3 * 128);
        QVERIFY(QFile::exists(out + "/esper.json"));
    }

    void theSameRunTwiceGivesTheSameBits() {
        const QString a = tmp_.path() + "/two", b = tmp_.path() + "/two-again";
        const Run r = runEsper(twoWorkers(training(b, 3)));
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QCOMPARE(largestDifference(mapperOf(a), mapperOf(b)), 0.0);
    }

    void aCheckpointOfTwoWorkersResumesWithOne() {
        const QString out = tmp_.path() + "/resumed";
        Run r = runEsper(twoWorkers(training(out, 2)));
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY(QFile::exists(out + "/esper-checkpoint.safetensors"));
        r = runEsper(training(out, 3) << "--resume");
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const double diff = largestDifference(mapperOf(out), one_);
        QVERIFY2(diff < 1e-5, qPrintable(QString("largest relative difference %1").arg(diff)));
        QVERIFY(!lastLogLine(out).contains("workers")); // the last iteration ran alone
    }

    void workersThatDoNotDivideThePartsAreRefused() {
        const Run r = runEsper(twoWorkers(training(tmp_.path() + "/refused", 1) << "--set"
                                                                                << "parts=3"));
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("multiple of the number of workers (2)"), qPrintable(r.err));
    }

    void aWorkerThatNeverComesEndsTheRunWithinTheTimeout() {
        QElapsedTimer clock;
        clock.start();
        const Run r =
            runEsper(training(tmp_.path() + "/alone", 1)
                     << "--world-size"
                     << "2"
                     << "--rank"
                     << "0"
                     << "--master" << QString("127.0.0.1:%1").arg(esper::freeLoopbackPort())
                     << "--rendezvous-timeout"
                     << "2");
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("worker(s) 1 did not reach"), qPrintable(r.err));
        QVERIFY(clock.elapsed() < 20000);
    }
};

QTEST_GUILESS_MAIN(TestCliDistributedTraining)
#include "test_cli_distributed_training.moc"
