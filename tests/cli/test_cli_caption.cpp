// The `esper` command line as people use it for dataset work: bundle create/check, caption over
// a folder with bad files in it, score, and the documented JSON fields.
#include "test_images.h"
#include "test_support.h"

#include "wav_format.h"
#include "world/scene.h"
#include "world/scene_sound.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QProcess>
#include <QTemporaryDir>
#include <algorithm>
#include <cstdio>
#include <functional>
#include <sys/resource.h>
#include <sys/stat.h>

namespace {

struct Run {
    int code = -1;
    QByteArray out, err;
};

// `setup` may redirect the process's output or limit it before it starts.
Run runEsper(const QStringList& args, const std::function<void(QProcess&)>& setup = {}) {
    QProcess p;
    if (setup) setup(p);
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
        QVERIFY(esper::test::writeTestFile(images_ + "/corrupt.png",
                                           "\x89PNG\r\n\x1a\n this is not really a png"));
        QFile notes(tmp_.path() + "/notes.txt");
        QVERIFY(notes.open(QIODevice::WriteOnly));
        notes.write("plain text, not an image");
    }

    // Sounds among images, told apart by content: a world scene's sound and its image through
    // the demo bundle (which has an audio encoder), a long sound in windows, and bad sound
    // files reported by name while the rest of the batch goes on.
    void captionsSoundsBesideImagesInWindows() {
        const QString dir = tmp_.path() + "/heard";
        const Run render = runEsper({"world", "render", "--out", dir, "--count", "2", "--audio"});
        QVERIFY2(render.code == 0, render.err.constData());
        // A 12-second sound: scene 0's two seconds, six times over.
        const auto one = esper::world::renderSceneSound(esper::world::generateScene(1, 0));
        esper::AudioClip longSound;
        for (int k = 0; k < 6; ++k)
            longSound.samples.insert(longSound.samples.end(), one.samples.begin(),
                                     one.samples.end());
        QVERIFY(esper::media::writeWavFile(longSound, (dir + "/long.wav").toStdString()).ok());
        QVERIFY(esper::test::writeTestFile(dir + "/empty.wav", ""));
        QFile scene(dir + "/scene_0.wav"); // its header cut short
        QVERIFY(scene.open(QIODevice::ReadOnly));
        QVERIFY(esper::test::writeTestFile(dir + "/cut.wav", scene.read(30)));
        QVERIFY(QFile::copy(dir + "/scene_1.png", dir + "/picture-named.wav"));
        // A WAV named like an image is a sound.
        QVERIFY(QFile::copy(dir + "/scene_1.wav", dir + "/sound-named.jpg"));

        const Run r = runEsper({"caption", dir, "--bundle", ESPER_DEMO_BUNDLE_DIR, "--style",
                                "caption", "--window", "5"});
        QCOMPARE(r.code, 0);
        QMap<QString, QList<QJsonObject>> byFile;
        for (const auto& rec : jsonLines(r.out))
            byFile[QFileInfo(rec["path"].toString()).fileName()].push_back(rec);
        for (const char* sound : {"scene_0.wav", "scene_1.wav"}) {
            QCOMPARE(byFile[sound].size(), 1);
            const auto rec = byFile[sound].first();
            checkCaptionRecord(rec);
            QCOMPARE(rec["modality"].toString(), QString("audio"));
            QCOMPARE(rec["start"].toDouble(), 0.0);
            QCOMPARE(rec["end"].toDouble(), 2.0);
        }
        QCOMPARE(byFile["scene_0.png"].first()["modality"].toString(), QString("image"));
        // long.wav: 0-5, 5-10 and the 2-second tail.
        QCOMPARE(byFile["long.wav"].size(), 3);
        QCOMPARE(byFile["long.wav"][2]["start"].toDouble(), 10.0);
        QCOMPARE(byFile["long.wav"][2]["end"].toDouble(), 12.0);
        // picture-named.wav holds a PNG: an image, whatever its name says.
        QCOMPARE(byFile["picture-named.wav"].first()["modality"].toString(), QString("image"));
        QCOMPARE(byFile["sound-named.jpg"].first()["modality"].toString(), QString("audio"));
        for (const char* bad : {"empty.wav", "cut.wav"}) {
            QCOMPARE(byFile[bad].size(), 1);
            QVERIFY2(byFile[bad].first()["error"].toString().contains(bad), bad);
        }
    }

    // A bundle without an audio encoder says so for each sound, and goes on with the images.
    void soundNeedsABundleWithAnAudioEncoder() {
        const QString dir = tmp_.path() + "/one-sound";
        const Run render = runEsper({"world", "render", "--out", dir, "--count", "1", "--audio"});
        QVERIFY2(render.code == 0, render.err.constData());
        const Run r = runEsper({"caption", dir, "--bundle", bundle_});
        QCOMPARE(r.code, 0); // the image was captioned
        bool explained = false;
        for (const auto& rec : jsonLines(r.out))
            if (rec["path"].toString().endsWith(".wav"))
                explained = rec["error"].toString().contains("no audio encoder");
        QVERIFY(explained);
    }

    // Files that are not files: a link to /dev/zero and a FIFO, named like an image and a
    // sound. Each is refused by name at once (they used to grow without end and block for
    // ever), and the run ends.
    void devicesAndPipesAreRefusedNotRead() {
        const QString dir = tmp_.path() + "/not-files";
        QVERIFY(QDir().mkpath(dir));
        QVERIFY(QFile::link("/dev/zero", dir + "/zero.png"));
        QVERIFY(::mkfifo(QFile::encodeName(dir + "/pipe.wav").constData(), 0600) == 0);
        QElapsedTimer timer;
        timer.start();
        const Run r = runEsper(
            {"caption", dir + "/zero.png", dir + "/pipe.wav", "--bundle", ESPER_DEMO_BUNDLE_DIR});
        QVERIFY2(timer.elapsed() < 60000, "it took a minute: something was read");
        QCOMPARE(r.code, 1);
        const auto records = jsonLines(r.out);
        QCOMPARE(records.size(), 2);
        for (const auto& rec : records) {
            const QString error = rec["error"].toString();
            QVERIFY2(error.contains(QFileInfo(rec["path"].toString()).fileName()) &&
                         error.contains("not a regular file"),
                     qPrintable(error));
        }
    }

    // A bundle whose esper.json names a 5,000-character path: a message and exit 1 or 2, not an
    // uncaught std::filesystem_error.
    void anOverlongPathInABundleIsAnErrorNotACrash() {
        const QString dir = tmp_.path() + "/long-bundle";
        QVERIFY(QDir().mkpath(dir));
        QVERIFY(esper::test::writeTestFile(
            dir + "/esper.json", "{\"clip\": \"" + QByteArray(5000, 'a') +
                                     "\", \"lm\": \"./lm\", \"mapper\": \"m.safetensors\"}"));
        for (const QStringList& args : {QStringList{"bundle", "check", dir},
                                        QStringList{"caption", images_, "--bundle", dir}}) {
            const Run r = runEsper(args);
            QVERIFY2(r.code == 1 || r.code == 2, qPrintable(args.join(' ')));
            QVERIFY(!r.err.isEmpty());
            QVERIFY(!r.err.contains("terminate called"));
        }
    }

    // A write that fails (a full disk; here a file-size limit, which fails the same way) stops
    // the run with exit 1 and a message; the summary claims nothing, and the partial file is
    // kept under its .partial name, never renamed over the output.
    void aFailedWriteStopsTheRunAndIsNeverRenamedIntoPlace() {
        const QString out = tmp_.path() + "/full/records.jsonl";
        QVERIFY(QDir().mkpath(tmp_.path() + "/full"));
        const Run r =
            runEsper({"caption", images_, "--bundle", bundle_, "--jsonl", out}, [](QProcess& p) {
                p.setChildProcessModifier([] {
                    const rlimit limit{700, 700}; // bytes a file may grow to
                    ::setrlimit(RLIMIT_FSIZE, &limit);
                });
            });
        QCOMPARE(r.code, 1);
        QVERIFY2(
            r.err.contains("cannot write " + QFile::encodeName(out) + ".partial: File too large"),
            r.err.constData());
        QVERIFY2(!r.err.contains("captioned,"), r.err.constData());
        QVERIFY(!QFile::exists(out));
        QVERIFY(QFileInfo(out + ".partial").size() <= 700);
        // Standard output that cannot be written: the same.
        const Run full = runEsper({"caption", images_ + "/chelsea.png", "--bundle", bundle_},
                                  [](QProcess& p) { p.setStandardOutputFile("/dev/full"); });
        QCOMPARE(full.code, 1);
        QVERIFY2(full.err.contains("cannot write the records to standard output: No space left"),
                 full.err.constData());
    }

    // A file name that is not UTF-8 is written with U+FFFD; the batch, and a --json array,
    // go on past it.
    void aFileNameThatIsNotUtf8DoesNotStopTheBatch() {
        const QByteArray dir = QFile::encodeName(tmp_.path() + "/bytes");
        QVERIFY(QDir().mkpath(QFile::decodeName(dir)));
        QFile source(esper::test::referenceDir() + "/images/chelsea.png");
        QVERIFY(source.open(QIODevice::ReadOnly));
        const QByteArray png = source.readAll();
        for (const QByteArray& name : {QByteArray("/bad\xff\xfe.png"), QByteArray("/good.png")}) {
            const QByteArray path = dir + name;
            FILE* f = std::fopen(path.constData(), "wb");
            QVERIFY(f);
            QCOMPARE(std::fwrite(png.constData(), 1, size_t(png.size()), f), size_t(png.size()));
            std::fclose(f);
        }
        const Run r = runEsper({"caption", QFile::decodeName(dir), "--bundle", bundle_, "--style",
                                "caption", "--json"});
        QCOMPARE(r.code, 0);
        const auto array = QJsonDocument::fromJson(r.out).array();
        QCOMPARE(array.size(), 2);
        QStringList paths;
        for (const auto& v : array)
            paths << v.toObject()["path"].toString();
        paths.sort();
        QVERIFY2(paths[0].endsWith(QString("/bad") + QChar(0xfffd) + QChar(0xfffd) + ".png"),
                 qPrintable(paths.join(", ")));
        QVERIFY(paths[1].endsWith("/good.png"));
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
        QVERIFY(r.err.contains("2 file(s) captioned, 2 failed"));
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
        if (!QFile::exists(out)) { // run alone: caption the images first
            const Run c = runEsper({"caption", images_, "--bundle", bundle_, "--jsonl", out});
            QVERIFY2(c.code == 0, c.err.constData());
        }
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

    // ESPER on a user's own images, with a real GPT-2 tokenizer and the built-in English
    // sentence-initial words: a short run ends in a bundle the rest of the tool loads, and
    // every bad input stops with one message and exit code 2 before any training.
    void trainEsperOnImagesMakesABundle() {
        const QString out = tmp_.path() + "/esper-out";
        const QStringList small{"--set", "batch_size=8",         "--set", "minibatches=2",
                                "--set", "ppo_epochs=1",         "--set", "response_length=5",
                                "--set", "calibration_batches=1"};
        const Run r =
            runEsper(QStringList{"train", "esper", "--bundle", bundle_, "--images", images_,
                                 "--out", out, "--iterations", "3", "--random-mapper", "--free",
                                 "--set", "reward_gain=null", "--set", "reward_bias=null"} +
                     small);
        QVERIFY2(r.code == 0, r.err.constData());
        const auto summary = QJsonDocument::fromJson(r.out).object();
        QCOMPARE(summary["iterations"].toInt(), 3);
        QCOMPARE(summary["episodes"].toInt(), 24);
        QVERIFY(summary["calibration_std"].toDouble() > 0);
        // The corrupt file was left out and named; the two readable images were used.
        QVERIFY(summary["skipped_images"].toArray().size() == 1);
        QVERIFY(summary["skipped_images"][0].toString().contains("corrupt.png"));
        QFile manifest(out + "/esper.json");
        QVERIFY(manifest.open(QIODevice::ReadOnly));
        const auto training = QJsonDocument::fromJson(manifest.readAll())["training"].toObject();
        QCOMPARE(training["method"].toString(), QString("esper-ppo"));
        QCOMPARE(training["iterations"].toInt(), 3);
        QCOMPARE(training["episodes"].toInt(), 24);
        QVERIFY(QFile::exists(out + "/esper-config.json"));
        QFile log(out + "/esper-train.jsonl");
        QVERIFY(log.open(QIODevice::ReadOnly));
        const auto lines = jsonLines(log.readAll());
        QCOMPARE(lines.size(), 3);
        for (const char* key :
             {"reward_total", "reward_goal", "clip_cosine", "kl", "entropy", "loss_policy",
              "loss_value", "clip_fraction", "explained_variance", "episodes_per_second"})
            QVERIFY2(lines[2].contains(key), key);
        const Run check = runEsper({"bundle", "check", out});
        QVERIFY2(check.code == 0, check.err.constData());
        const Run caption = runEsper({"caption", images_ + "/chelsea.png", "--bundle", out});
        QVERIFY2(caption.code == 0, caption.err.constData());
    }

    // The same run as a program drives it: --progress json puts one JSON event per line on
    // stderr, previews included, and the result stays on stdout.
    void trainEsperStreamsProgressAsJson() {
        const QString out = tmp_.path() + "/esper-json";
        const Run r = runEsper({"train",
                                "esper",
                                "--bundle",
                                bundle_,
                                "--images",
                                images_,
                                "--out",
                                out,
                                "--iterations",
                                "2",
                                "--styles",
                                "caption,news",
                                "--set",
                                "batch_size=8",
                                "--set",
                                "minibatches=2",
                                "--set",
                                "response_length=5",
                                "--set",
                                "calibration_batches=1",
                                "--preview-every",
                                "1",
                                "--preview-images",
                                "2",
                                "--progress",
                                "json"});
        QVERIFY2(r.code == 0, r.err.constData());
        QMap<QString, int> events;
        for (const auto& e : jsonLines(r.err)) {
            const QString kind = e["event"].toString();
            ++events[kind];
            if (kind == "preview") {
                const auto captions = e["captions"].toArray();
                QCOMPARE(captions.size(), 4); // 2 images x 2 styles
                QCOMPARE(captions[1].toObject()["style"].toString(), QString("news"));
            }
            if (kind == "iteration") QVERIFY(e["metrics"].toObject().contains("clip_cosine"));
        }
        QCOMPARE(events["iteration"], 2);
        QCOMPARE(events["preview"], 3); // before, after 1, after 2
        QVERIFY(events["message"] >= 1);
        QCOMPARE(QJsonDocument::fromJson(r.out).object()["iterations"].toInt(), 2);
        const Run bad = runEsper({"train", "esper", "--bundle", bundle_, "--images", images_,
                                  "--out", out, "--progress", "xml"});
        QCOMPARE(bad.code, 2);
        QVERIFY(bad.err.contains("--progress takes `json`"));
    }

    // Fine-tuning on the user's own captions (the demo bundle, whose language model follows its
    // prefix): rendered scenes with their captions as a JSONL dataset; from a fresh mapper the
    // captions' teacher-forced loss falls, and the result is a bundle the tool loads.
    void supervisedFineTuneOnPairsLowersTheirLoss() {
        const QString scenes = tmp_.path() + "/scenes";
        const Run rendered = runEsper({"world", "render", "--out", scenes, "--count", "6"});
        QVERIFY2(rendered.code == 0, rendered.err.constData());
        const QString out = tmp_.path() + "/pairs-out";
        const Run r =
            runEsper({"train", "supervised", "--bundle", ESPER_DEMO_BUNDLE_DIR, "--pairs",
                      scenes + "/scenes.jsonl", "--out", out, "--random-mapper", "--steps", "30"});
        QVERIFY2(r.code == 0, r.err.constData());
        const auto summary = QJsonDocument::fromJson(r.out).object();
        QVERIFY(summary["pairs"].toInt() >= 6);
        QCOMPARE(summary["images"].toInt(), 6);
        // Measured 1.4 -> 0.6; a mapper that ignored its images would still fall, but not this far.
        QVERIFY2(summary["pair_loss_after"].toDouble() <
                     summary["pair_loss_before"].toDouble() - 0.3,
                 r.out.constData());
        QFile manifest(out + "/esper.json");
        QVERIFY(manifest.open(QIODevice::ReadOnly));
        const auto training = QJsonDocument::fromJson(manifest.readAll())["training"].toObject();
        QCOMPARE(training["method"].toString(), QString("supervised-pairs"));
        const Run check = runEsper({"bundle", "check", out});
        QVERIFY2(check.code == 0, check.err.constData());
        const Run none = runEsper({"train", "supervised", "--bundle", bundle_, "--pairs",
                                   tmp_.path() + "/nothing.jsonl", "--out", out});
        QCOMPARE(none.code, 2);
    }

    // ESPER-Style's first stage on the tiny GPT-2: "label: text" lines, labels balanced, the
    // loss falls, and the result is a model folder the engine loads.
    void styleGeneratorFineTunesOnLabelledLines() {
        QFile texts(tmp_.path() + "/styles.txt");
        QVERIFY(texts.open(QIODevice::WriteOnly));
        for (int i = 0; i < 30; ++i)
            texts.write(QString("news: the city council met on day %1.\n").arg(i).toUtf8());
        for (int i = 0; i < 10; ++i)
            texts.write(QString("sns: look at this cat %1 lol\n").arg(i).toUtf8());
        texts.close();
        const QString out = tmp_.path() + "/style-generator";
        const Run r = runEsper({"train", "style-generator", "--lm",
                                esper::test::referenceDir() + "/models/gpt2-tiny", "--tokenizer",
                                esper::test::dataDir() + "/tokenizers/gpt2-tiny", "--texts",
                                texts.fileName(), "--out", out, "--steps", "40", "--batch", "8",
                                "--lr", "3e-3", "--warmup", "5"});
        QVERIFY2(r.code == 0, r.err.constData());
        const auto summary = QJsonDocument::fromJson(r.out).object();
        QCOMPARE(summary["lines_per_label"]["news"].toInt(), 30);
        QCOMPARE(summary["lines_used"].toInt(), 20); // 10 of each label
        // The lines of each label differ in one number, so the loss must fall by over half a nat.
        QVERIFY(summary["last_loss"].toDouble() < summary["first_loss"].toDouble() - 0.5);
        QVERIFY(QFile::exists(out + "/config.json") && QFile::exists(out + "/model.safetensors"));
        QVERIFY(QFile::exists(out + "/vocab.json") && QFile::exists(out + "/merges.txt"));
        const Run bad = runEsper({"train", "style-generator", "--lm",
                                  esper::test::referenceDir() + "/models/gpt2-tiny", "--texts",
                                  esper::test::dataDir() + "/eval/candidates.jsonl", "--out",
                                  tmp_.path() + "/never-style"});
        QCOMPARE(bad.code, 1);
        QVERIFY2(bad.err.contains("label: text"), bad.err.constData());
    }

    // Every numeric flag is read by one parser: letters, trailing junk, fractions where a whole
    // number is wanted, signs and values out of range stop the verb with a message that names
    // the flag, before any work (these once rendered 100 scenes, or wrapped -5 around).
    void numericFlagsRefuseWhatIsNotANumberInRange() {
        const QString out = tmp_.path() + "/never-numbers";
        const QList<QPair<QStringList, QString>> cases{
            {{"world", "render", "--out", out, "--count", "abc"}, "--count"},
            {{"world", "render", "--out", out, "--count", "-5"}, "--count"},
            {{"world", "render", "--out", out, "--first", "3x"}, "--first"},
            {{"world", "text", "--out", out + ".txt", "--per-scene", "2.5"}, "--per-scene"},
            {{"world", "eval", "--bundle", bundle_, "--scenes", "0"}, "--scenes"},
            {{"caption", images_ + "/chelsea.png", "--bundle", bundle_, "--max-tokens", "1e3"},
             "--max-tokens"},
            {{"caption", images_ + "/chelsea.png", "--bundle", bundle_, "--top-p", "x"}, "--top-p"},
            {{"bundle", "create", out, "--prefix-length", "ten"}, "--prefix-length"},
            {{"train", "esper", "--bundle", bundle_, "--world", "--out", out, "--minutes", "-1"},
             "--minutes"},
            {{"pretrain", "clip", "--out", out, "--steps", "12 "}, "--steps"},
            {{"bench", "--repeats", "0"}, "--repeats"},
            {{"preprocess", images_ + "/chelsea.png", "--size", "big"}, "--size"}};
        for (const auto& [args, flag] : cases) {
            const Run r = runEsper(args);
            QVERIFY2(r.code == 2,
                     qPrintable(args.join(' ') + " exited " + QString::number(r.code)));
            QVERIFY2(r.err.contains(flag.toUtf8()), r.err.constData());
        }
        QVERIFY(!QFileInfo::exists(out));
        // Zero passes where it is a value (the first scene, seed 0).
        const Run zero = runEsper({"world", "text", "--out", out + ".txt", "--scenes", "1",
                                   "--first", "0", "--seed", "0"});
        QVERIFY2(zero.code == 0, zero.err.constData());
    }

    void trainEsperRefusesBadInputs() {
        const QString out = tmp_.path() + "/never";
        auto refused = [&](const QStringList& extra, const char* message) {
            const Run r = runEsper(QStringList{"train", "esper", "--bundle", bundle_, "--out", out,
                                               "--iterations", "1"} +
                                   extra);
            QVERIFY2(r.code == 2, qPrintable(QString::number(r.code) + " " + r.err));
            QVERIFY2(r.err.contains(message), r.err.constData());
            QCOMPARE(r.err.count("esper train esper:"), 1);
        };
        refused({"--images", tmp_.path() + "/no-such-folder"}, "no such file or folder");
        const QString unreadable = tmp_.path() + "/unreadable";
        QDir().mkpath(unreadable);
        QVERIFY(QFile::copy(images_ + "/corrupt.png", unreadable + "/a.png"));
        refused({"--images", unreadable}, "none of the 1 files could be read");
        QFile config(tmp_.path() + "/esper-unknown.json");
        QVERIFY(config.open(QIODevice::WriteOnly));
        config.write("{\"learning_rate\": 0.001, \"kl_coeff\": 0.1}");
        config.close();
        refused({"--images", images_, "--config", config.fileName()},
                "unknown setting \"kl_coeff\"");
        refused({"--images", images_, "--set", "batch_size=\"many\""},
                "\"batch_size\" must be a whole number");
        refused({"--world", "--images", images_}, "--world or --images");
        QVERIFY(!QFile::exists(out + "/esper.json"));
    }
};

QTEST_GUILESS_MAIN(TestCliCaption)
#include "test_cli_caption.moc"
