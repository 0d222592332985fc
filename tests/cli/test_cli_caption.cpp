// The `esper` command line as people use it for dataset work: bundle create/check, caption over
// a folder with bad files in it, score, and the documented JSON fields.
#include "test_support.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

namespace {

struct Run {
    int code = -1;
    QByteArray out, err;
};

Run runEsper(const QStringList& args) {
    QProcess p;
    p.start(QStringLiteral(ESPER_CLI_PATH), args);
    p.waitForFinished(120000);
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(),
            p.readAllStandardError()};
}

QList<QJsonObject> jsonLines(const QByteArray& text) {
    QList<QJsonObject> out;
    for (const auto& line : text.split('\n'))
        if (!line.trimmed().isEmpty()) out.push_back(QJsonDocument::fromJson(line).object());
    return out;
}

// The fields `esper caption` documents for a caption record, with their JSON types.
void checkCaptionRecord(const QJsonObject& r) {
    QVERIFY(r["path"].isString());
    QVERIFY(r["style"].isString());
    QVERIFY(r["prompt"].isString());
    QVERIFY(r["caption"].isString());
    QVERIFY(r["tokens"].isArray() && !r["tokens"].toArray().isEmpty());
    QVERIFY(r["clip_s"].isDouble() && r["clip_s"].toDouble() >= 0 && r["clip_s"].toDouble() <= 2.5);
    QVERIFY(r["cosine"].isDouble());
    QVERIFY(r["logprob"].isDouble());
    QVERIFY(r["ms"].isDouble() && r["ms"].toDouble() > 0);
}

} // namespace

class TestCliCaption : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;
    QString bundle_, images_;

private slots:
    void initTestCase() {
        const QString ref = esper::test::referenceDir(), data = esper::test::dataDir();
        bundle_ = tmp_.path() + "/bundle";
        const Run made =
            runEsper({"bundle", "create", bundle_, "--clip", ref + "/models/clip-tiny",
                      "--clip-tokenizer", data + "/tokenizers/clip-tiny", "--lm",
                      ref + "/models/gpt2-tiny", "--lm-tokenizer", data + "/tokenizers/gpt2-tiny",
                      "--prefix-length", "4", "--style", "caption", "--style", "news"});
        QVERIFY2(made.code == 0, made.err.constData());
        images_ = tmp_.path() + "/images";
        QDir().mkpath(images_ + "/sub");
        QVERIFY(QFile::copy(ref + "/images/chelsea.png", images_ + "/chelsea.png"));
        QVERIFY(QFile::copy(ref + "/images/synthetic_97x61.png", images_ + "/sub/synth.png"));
        QFile corrupt(images_ + "/corrupt.png");
        QVERIFY(corrupt.open(QIODevice::WriteOnly));
        corrupt.write("\x89PNG\r\n\x1a\n this is not really a png");
        corrupt.close();
        QFile notes(tmp_.path() + "/notes.txt");
        QVERIFY(notes.open(QIODevice::WriteOnly));
        notes.write("plain text, not an image");
    }

    void bundleCheckReportsPieces() {
        const Run r = runEsper({"bundle", "check", bundle_});
        QVERIFY2(r.code == 0, r.err.constData());
        QVERIFY(r.out.contains("gpt2") && r.out.contains("prefix 4") && r.out.contains("OK"));
    }

    void captionsAFolderAndReportsBadFilesPerItem() {
        const QString out = tmp_.path() + "/captions.jsonl";
        const Run r = runEsper(
            {"caption", images_, tmp_.path() + "/notes.txt", "--bundle", bundle_, "--jsonl", out});
        QVERIFY2(r.code == 0, r.err.constData());
        QVERIFY(r.err.contains("2 image(s) captioned, 2 failed"));
        QVERIFY(!QFile::exists(out + ".partial"));
        QFile f(out);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const auto records = jsonLines(f.readAll());
        int captions = 0, errors = 0;
        for (const auto& rec : records) {
            if (rec.contains("error")) {
                ++errors;
                const QString path = rec["path"].toString();
                QVERIFY(path.endsWith("corrupt.png") || path.endsWith("notes.txt"));
                QVERIFY(rec["error"].toString().contains(QFileInfo(path).fileName()));
            } else {
                ++captions;
                checkCaptionRecord(rec);
            }
        }
        QCOMPARE(errors, 2);
        QCOMPARE(captions, 4); // 2 images x the bundle's 2 styles
    }

    void jsonArrayOutputHasTheDocumentedFields() {
        const Run r = runEsper({"caption", images_ + "/chelsea.png", "--bundle", bundle_, "--style",
                                "sns", "--prompt", "The photo describes a", "--json"});
        QVERIFY2(r.code == 0, r.err.constData());
        const auto doc = QJsonDocument::fromJson(r.out);
        QVERIFY(doc.isArray());
        QCOMPARE(doc.array().size(), 2);
        for (const auto& v : doc.array())
            checkCaptionRecord(v.toObject());
        QCOMPARE(doc.array()[0].toObject()["prompt"].toString(), QString("sns:"));
        QCOMPARE(doc.array()[1].toObject()["prompt"].toString(), QString("The photo describes a"));
    }

    void decodingFlagsReachTheDecoder() {
        const QStringList base = {"caption",  images_ + "/chelsea.png",
                                  "--bundle", bundle_,
                                  "--style",  "caption",
                                  "--json",   "--no-stop"};
        auto tokens = [](const Run& r) {
            return QJsonDocument::fromJson(r.out).array()[0].toObject()["tokens"].toArray();
        };
        const Run five = runEsper(base + QStringList{"--max-tokens", "5"});
        QCOMPARE(tokens(five).size(), 5);
        const Run sampled = runEsper(base + QStringList{"--temperature", "1.5", "--seed", "3"});
        const Run greedy = runEsper(base);
        QVERIFY(tokens(sampled) != tokens(greedy));
        const Run bad = runEsper(base + QStringList{"--top-p", "2"});
        QCOMPARE(bad.code, 2);
        QVERIFY(bad.err.contains("top-p"));
    }

    void nothingReadableExitsNonZero() {
        const Run r = runEsper({"caption", images_ + "/corrupt.png", "--bundle", bundle_});
        QCOMPARE(r.code, 1);
        QVERIFY(jsonLines(r.out).first().contains("error"));
    }

    void scoreMatchesCaptionScores() {
        const QString out = tmp_.path() + "/captions.jsonl";
        QFile f(out);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QMap<QString, double> captionScore;
        for (const auto& rec : jsonLines(f.readAll()))
            if (!rec.contains("error"))
                captionScore[rec["path"].toString() + "|" + rec["style"].toString()] =
                    rec["clip_s"].toDouble();
        const Run r = runEsper({"score", "--captions", out, "--bundle", bundle_});
        QVERIFY2(r.code == 0, r.err.constData());
        int matched = 0;
        for (const auto& rec : jsonLines(r.out)) {
            if (rec.contains("error")) continue;
            const QString key = rec["path"].toString() + "|" + rec["style"].toString();
            QVERIFY2(captionScore.contains(key), qPrintable(key));
            QVERIFY(std::abs(rec["clip_s"].toDouble() - captionScore[key]) < 1e-6);
            ++matched;
        }
        QCOMPARE(matched, 4);
        QVERIFY(r.err.contains("mean CLIP-S"));
    }

    void brokenBundleIsExplained() {
        const QString broken = tmp_.path() + "/broken";
        QDir().mkpath(broken);
        QVERIFY(QFile::copy(bundle_ + "/esper.json", broken + "/esper.json"));
        const Run r = runEsper({"bundle", "check", broken});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("mapper"), r.err.constData());
        const Run none = runEsper({"caption", images_, "--bundle", tmp_.path() + "/nowhere"});
        QCOMPARE(none.code, 2);
        QVERIFY(none.err.contains("esper.json"));
    }
};

QTEST_GUILESS_MAIN(TestCliCaption)
#include "test_cli_caption.moc"
