// Replays the fuzzing corpora kept in tests/fuzz/corpus/TARGET/ (the inputs libFuzzer found
// interesting, crashes it found included once fixed) through the ordinary build: every input
// must come back, without a crash, within a few seconds.
#include "fuzz_targets.h"
#include "test_support.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>

class TestFuzzReplay : public QObject {
    Q_OBJECT

private slots:
    void corpus_data() {
        QTest::addColumn<QString>("target");
        for (const auto& t : esper::fuzz::fuzzTargets())
            QTest::newRow(t.name) << QString(t.name);
    }

    void corpus() {
        QFETCH(QString, target);
        const auto* t = esper::fuzz::findFuzzTarget(target.toStdString());
        QVERIFY(t);
        const QDir dir(esper::test::dataDir() + "/../fuzz/corpus/" + target);
        const auto files = dir.entryInfoList(QDir::Files);
        QVERIFY2(!files.isEmpty(), qPrintable("no corpus for " + target));
        for (const auto& info : files) {
            QFile f(info.filePath());
            QVERIFY(f.open(QIODevice::ReadOnly));
            const QByteArray bytes = f.readAll();
            QElapsedTimer timer;
            timer.start();
            t->run({bytes.constData(), size_t(bytes.size())});
            QVERIFY2(timer.elapsed() < 5000,
                     qPrintable(info.fileName() + QString(" took %1 ms").arg(timer.elapsed())));
        }
    }
};

QTEST_GUILESS_MAIN(TestFuzzReplay)
#include "test_fuzz_replay.moc"
