// The bad-input corpus (tests/data/bad, written by tools/make_bad_inputs.py) handed to `esper`
// in the role each file was made for: a piece of a bundle, an image or sound to caption, a
// dataset to check, an evaluation set. And flags with bad values. Each must end in exit 1 or 2
// with a message naming the file or flag: never a signal, a hang, or more than 1 GB of memory.
#include "test_support.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <sys/resource.h>

namespace {

constexpr int kTimeoutMs = 60000;
constexpr long kMaxMemoryKb = 1024L * 1024L; // 1 GB

// The largest resident size of any child this process has waited for, in KB.
long childPeakKb() {
    rusage usage{};
    getrusage(RUSAGE_CHILDREN, &usage);
    return usage.ru_maxrss;
}

bool copyTree(const QString& from, const QString& to) {
    QDir().mkpath(to);
    QDirIterator it(from, QDir::Files | QDir::Dirs | QDir::NoDotAndDotDot,
                    QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        const QString target = to + "/" + QDir(from).relativeFilePath(path);
        if (it.fileInfo().isDir()) {
            QDir().mkpath(target);
        } else if (!QFile::copy(path, target)) {
            return false;
        }
    }
    return true;
}

} // namespace

class TestCliBadInputs : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;
    QString base_; // a working tiny bundle and its models: bundle/, clip/, lm/, clip-tok/, lm-tok/

    struct Outcome {
        bool finished = false, crashed = false;
        int code = -1;
        QString output;
        long peakKb = 0;
    };

    Outcome runEsper(const QStringList& args) {
        QProcess p;
        p.start(QStringLiteral(ESPER_CLI_PATH), args);
        Outcome o;
        o.finished = p.waitForFinished(kTimeoutMs);
        if (!o.finished) {
            p.kill();
            p.waitForFinished();
        }
        o.crashed = p.exitStatus() == QProcess::CrashExit;
        o.code = p.exitCode();
        o.output = QString::fromUtf8(p.readAllStandardOutput() + p.readAllStandardError());
        o.peakKb = childPeakKb();
        return o;
    }

    // What every bad input must come to: a clean failure that names `name` (or `alsoName`: a
    // manifest's problem may be told as the bundle's).
    void checkRefused(const Outcome& o, const QString& name, const QString& what,
                      const QString& alsoName = {}) {
        QVERIFY2(o.finished, qPrintable(what + ": still running after a minute"));
        QVERIFY2(!o.crashed, qPrintable(what + ": killed by a signal\n" + o.output));
        QVERIFY2(o.code == 1 || o.code == 2,
                 qPrintable(what + QString(": exit %1\n").arg(o.code) + o.output));
        QVERIFY2(o.output.contains(name) || (!alsoName.isEmpty() && o.output.contains(alsoName)),
                 qPrintable(what + ": the message does not name " + name + "\n" + o.output));
        QVERIFY2(o.peakKb < kMaxMemoryKb,
                 qPrintable(what + QString(": %1 MB of memory").arg(o.peakKb / 1024)));
        QVERIFY2(!o.output.contains("terminate called") && !o.output.contains("$6$"),
                 qPrintable(what + ": " + o.output));
    }

private slots:
    void initTestCase() {
        base_ = tmp_.path() + "/base";
        const QString models = esper::test::referenceDir() + "/models";
        const QString tokenizers = esper::test::dataDir() + "/tokenizers";
        QVERIFY(copyTree(models + "/clip-tiny", base_ + "/clip"));
        QVERIFY(copyTree(models + "/gpt2-tiny", base_ + "/lm"));
        QVERIFY(copyTree(tokenizers + "/clip-tiny", base_ + "/clip-tok"));
        QVERIFY(copyTree(tokenizers + "/gpt2-tiny", base_ + "/lm-tok"));
        const Outcome made =
            runEsper({"bundle", "create", base_ + "/bundle", "--clip", base_ + "/clip", "--lm",
                      base_ + "/lm", "--clip-tokenizer", base_ + "/clip-tok", "--lm-tokenizer",
                      base_ + "/lm-tok", "--prefix-length", "4", "--name", "bad"});
        QVERIFY2(made.code == 0, qPrintable(made.output));
        // The base is sound: every failure below is the bad file's.
        const Outcome check = runEsper({"bundle", "check", base_ + "/bundle"});
        QVERIFY2(check.code == 0, qPrintable(check.output));
    }

    void corpus_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("role");
        QFile f(esper::test::dataDir() + "/bad/cases.json");
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonArray cases = QJsonDocument::fromJson(f.readAll()).object()["cases"].toArray();
        QVERIFY2(cases.size() >= 40, "the corpus holds at least 40 files");
        for (const auto& c : cases) {
            const QJsonObject o = c.toObject();
            QTest::newRow(qPrintable(o["file"].toString()))
                << o["file"].toString() << o["role"].toString();
        }
    }

    void corpus() {
        QFETCH(QString, file);
        QFETCH(QString, role);
        const QString bad = esper::test::dataDir() + "/bad/" + file;
        QVERIFY(QFileInfo::exists(bad));
        QStringList args;
        QString name = file, alsoName;
        if (role == "image") {
            args = {"caption", bad, "--bundle", base_ + "/bundle"};
        } else if (role == "sound") { // the demo bundle hears
            args = {"caption", bad, "--bundle", ESPER_DEMO_BUNDLE_DIR};
        } else if (role == "dataset") {
            args = {"quality", bad};
        } else if (role == "evalset") {
            args = {"metrics", bad};
        } else {
            // A piece of a bundle: a copy of the working one with this file in that place.
            const QString dir = tmp_.path() + "/" + file;
            QVERIFY(copyTree(base_, dir));
            QFile::remove(dir + "/" + role);
            QVERIFY(QFile::copy(bad, dir + "/" + role));
            args = {"bundle", "check", dir + "/bundle"};
            name = QFileInfo(role).fileName();
            if (role == "bundle/esper.json") alsoName = "bundle '" + dir + "/bundle'";
        }
        checkRefused(runEsper(args), name, file, alsoName);
    }

    // Flags with values out of range, of the wrong kind, or not numbers at all.
    void flags_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("flag");
        const QString out = tmp_.path() + "/flag-out";
        const QString img = esper::test::referenceDir() + "/images/chelsea.png";
        auto row = [](const char* name, QStringList args, const char* flag) {
            QTest::newRow(name) << args << QString(flag);
        };
        row("render count -5", {"world", "render", "--out", out, "--count", "-5"}, "--count");
        row("render count 2.7", {"world", "render", "--out", out, "--count", "2.7"}, "--count");
        row("render count 1e30", {"world", "render", "--out", out, "--count", "1e30"}, "--count");
        row("text scenes -1", {"world", "text", "--scenes", "-1", "--out", out}, "--scenes");
        row("pretrain layers 100000", {"pretrain", "lm", "--layers", "100000", "--out", out},
            "--layers");
        row("caption max-tokens abc", {"caption", img, "--max-tokens", "abc"}, "--max-tokens");
        row("caption temperature nan", {"caption", img, "--temperature", "nan"}, "--temperature");
        row("caption top-p 1e30", {"caption", img, "--top-p", "1e30"}, "top-p");
        row("caption window 0", {"caption", img, "--window", "0"}, "--window");
        row("caption seed -1", {"caption", img, "--seed", "-1"}, "--seed");
    }

    void flags() {
        QFETCH(QStringList, args);
        QFETCH(QString, flag);
        checkRefused(runEsper(args), flag, args.join(' '));
    }

    // The case the report found allocating until the machine ran out: a prefix of 1,000 makes
    // a mapper of billions of parameters; it is refused before anything is allocated or made.
    void aHugePrefixIsRefusedBeforeAllocating() {
        const QString dir = tmp_.path() + "/huge-prefix";
        const Outcome o = runEsper({"bundle", "create", dir, "--clip", base_ + "/clip", "--lm",
                                    base_ + "/lm", "--prefix-length", "1000"});
        checkRefused(o, "prefix", "bundle create --prefix-length 1000");
        QVERIFY(!QFileInfo::exists(dir + "/mapper.safetensors"));
    }
};

QTEST_GUILESS_MAIN(TestCliBadInputs)
#include "test_cli_bad_inputs.moc"
