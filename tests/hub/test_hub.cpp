// The hub client against a hub served here on 127.0.0.1: the hub's URL scheme and headers
// (X-Linked-Etag, X-Linked-Size, Range, redirects, 401/404), a connection dropped mid-file and
// resumed, a cancel resumed later, a damaged file refused, the memory estimate from the header
// alone, repository listings and the Hugging Face cache.
#include "test_support.h"

#include "fake_hub.h"
#include "hub_client.h"
#include "model_download.h"

#include "bundle/bundle_manifest.h"
#include "bundle/hf_cache.h"

#include <QCryptographicHash>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>

using namespace esper;

namespace {

QByteArray readAll(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

} // namespace

using esper::test::FakeHub;

class TestHub : public QObject {
    Q_OBJECT

    FakeHub hub_;
    QTemporaryDir tmp_;

    hub::HubSettings settings() {
        hub::HubSettings s;
        s.endpoint = hub_.endpoint();
        s.firstBackoffMs = 10;
        s.timeoutMs = 5000;
        return s;
    }

    // A repository's weights: their address, what the hub says of them, and where a test
    // puts them (FOLDER/model.safetensors).
    struct Weights {
        QUrl url;
        hub::RemoteFile remote;
        QString dest;
    };
    bool inspectWeights(const QString& repo, const QString& folder, Weights& w) {
        w.url = hub::resolveUrl(settings(), repo, "model.safetensors");
        w.dest = tmp_.path() + "/" + folder + "/model.safetensors";
        auto inspected = hub::inspect(settings(), w.url);
        if (inspected) w.remote = inspected.value();
        return inspected.ok();
    }

private slots:
    void urlsFollowTheHubsScheme() {
        auto s = settings();
        QCOMPARE(hub::resolveUrl(s, "openai/clip-vit-base-patch32", "config.json").toString(),
                 hub_.endpoint() + "/openai/clip-vit-base-patch32/resolve/main/config.json");
        qputenv("HF_ENDPOINT", "https://mirror.example/");
        qputenv("HF_TOKEN", "abc");
        const auto env = hub::settingsFromEnvironment();
        QCOMPARE(env.endpoint, QString("https://mirror.example"));
        QCOMPARE(env.token, QString("abc"));
        QCOMPARE(hub::settingsFromEnvironment("http://flag").endpoint, QString("http://flag"));
        qunsetenv("HF_ENDPOINT");
        qunsetenv("HF_TOKEN");
    }

    void largeFilesCarryTheirSha256() {
        auto s = settings();
        auto lfs = hub::inspect(s, hub::resolveUrl(s, "org/model", "model.safetensors"));
        ESPER_VERIFY_OK(lfs);
        QCOMPARE(lfs->size, qint64(hub_.weights.size()));
        QCOMPARE(lfs->sha256.size(), 64);
        auto plain = hub::inspect(s, hub::resolveUrl(s, "org/model", "config.json"));
        ESPER_VERIFY_OK(plain);
        QVERIFY(plain->sha256.isEmpty()); // a git hash is not the content's sha256
        QCOMPARE(plain->size, qint64(hub_.config.size()));
    }

    // The connection drops after 40,000 bytes: the download resumes with a Range request from
    // there, and the file is whole and verified.
    void aDroppedConnectionIsResumed() {
        Weights w;
        QVERIFY(inspectWeights("org/model", "resume", w));
        hub_.ranges.clear();
        hub_.dropNextFullGetAfter = 40000;
        ESPER_VERIFY_OK(hub::download(settings(), w.url, w.dest, w.remote));
        QCOMPARE(readAll(w.dest), hub_.weights);
        QVERIFY(!QFile::exists(w.dest + ".incomplete"));
        // Qt itself may send the first request again when its connection drops; the last one
        // is ours, resuming where the file stopped.
        QVERIFY(hub_.ranges.size() >= 2);
        QVERIFY(hub_.ranges.first().isEmpty());
        QVERIFY2(hub_.ranges.last().startsWith("bytes=") && hub_.ranges.last() != "bytes=0-",
                 hub_.ranges.last().constData());
    }

    // A cancel keeps what arrived; the next download (after a restart) continues from there.
    void aCancelledDownloadContinuesLater() {
        Weights w;
        QVERIFY(inspectWeights("org/model", "cancel", w));
        // Half the file, as a cancelled or crashed run leaves it.
        QDir().mkpath(tmp_.path() + "/cancel");
        QFile partial(w.dest + ".incomplete");
        QVERIFY(partial.open(QIODevice::WriteOnly));
        partial.write(hub_.weights.left(50000));
        partial.close();
        std::atomic<bool> cancel{true};
        QVERIFY(hub::download(settings(), w.url, w.dest, w.remote, {}, &cancel).cancelled());
        QVERIFY(QFile::exists(w.dest + ".incomplete"));
        hub_.ranges.clear();
        ESPER_VERIFY_OK(hub::download(settings(), w.url, w.dest, w.remote));
        QCOMPARE(readAll(w.dest), hub_.weights);
        QCOMPARE(hub_.ranges.last(), QByteArray("bytes=50000-"));
    }

    // On a slow hub a cancel takes effect at once, not when the file is done.
    void cancelOnASlowHubStopsAtOnce() {
        Weights w;
        QVERIFY(inspectWeights("org/model", "slow", w));
        hub_.slow = true;
        std::atomic<bool> cancel{false};
        QElapsedTimer sinceCancel;
        auto result = hub::download(
            settings(), w.url, w.dest, w.remote,
            [&](qint64 done, qint64) {
                if (done > 8192 && !cancel) {
                    cancel = true;
                    sinceCancel.start();
                }
            },
            &cancel);
        hub_.slow = false;
        QVERIFY(result.cancelled());
        QVERIFY2(sinceCancel.elapsed() < 300, qPrintable(QString::number(sinceCancel.elapsed())));
        QVERIFY(QFileInfo(w.dest + ".incomplete").size() < hub_.weights.size());
    }

    void aDamagedFileIsRemovedAndSaidSo() {
        Weights w;
        QVERIFY(inspectWeights("org/corrupt", "corrupt", w));
        auto ok = hub::download(settings(), w.url, w.dest, w.remote);
        QVERIFY(!ok.ok());
        QVERIFY2(QString::fromStdString(ok.error()).contains("arrived damaged"),
                 ok.error().c_str());
        QVERIFY(!QFile::exists(w.dest) && !QFile::exists(w.dest + ".incomplete"));
    }

    void refusalsAreExplained() {
        auto s = settings();
        auto gated = hub::inspect(s, hub::resolveUrl(s, "gated/model", "config.json"));
        QVERIFY(!gated.ok());
        QVERIFY2(QString::fromStdString(gated.error()).contains("HF_TOKEN") &&
                     QString::fromStdString(gated.error()).contains("licence"),
                 gated.error().c_str());
        s.token = "secret";
        ESPER_VERIFY_OK(hub::inspect(s, hub::resolveUrl(s, "gated/model", "config.json")));
        auto missing = hub::inspect(s, hub::resolveUrl(s, "org/missing", "config.json"));
        QVERIFY(!missing.ok());
        QVERIFY(missing.code() == ErrorCode::NotFound);
        QVERIFY(QString::fromStdString(missing.error()).contains("does not exist"));
        const QString dest = tmp_.path() + "/redirect/config.json";
        ESPER_VERIFY_OK(
            hub::download(s, hub::resolveUrl(s, "org/redirected", "config.json"), dest, {}));
        QCOMPARE(readAll(dest), hub_.config);
    }

    // The weights' memory from the header alone: a few hundred bytes cross the wire, not the file.
    void memoryIsEstimatedFromTheHeader() {
        auto s = settings();
        const qint64 before = hub_.bytesSent;
        auto bytes =
            hub::safetensorsWeightBytes(s, hub::resolveUrl(s, "org/model", "model.safetensors"));
        ESPER_VERIFY_OK(bytes);
        QCOMPARE(bytes.value(), qint64(256 * 128 * 4 + 1000 * 2));
        QVERIFY(hub_.bytesSent - before < 4000);
    }

    void repositoriesListTheFilesAModelNeeds() {
        auto files = hub::listRepoFiles(settings(), "org/model");
        ESPER_VERIFY_OK(files);
        QCOMPARE(files->size(), 4);
        QCOMPARE(hub::filesToFetch(files.value()),
                 (QStringList{"config.json", "model.safetensors"}));
        QCOMPARE(
            hub::filesToFetch({"model-00001-of-00002.safetensors", "model.safetensors.index.json",
                               "flax_model.msgpack", "tokenizer.json"}),
            (QStringList{"model-00001-of-00002.safetensors", "model.safetensors.index.json",
                         "tokenizer.json"}));
    }

    // esper models download / size / list / remove against this hub, as a user runs them.
    void theCommandLineDownloadsListsAndRemoves() {
        const QString models = tmp_.path() + "/cli-models";
        auto esper = [&](const QStringList& args) {
            QProcess p;
            p.start(ESPER_CLI_PATH, args);
            p.waitForStarted();
            // The hub answers from this thread's event loop, so wait while serving it.
            while (p.state() != QProcess::NotRunning)
                QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
            return std::pair{p.exitCode(),
                             QString(p.readAllStandardOutput() + p.readAllStandardError())};
        };
        auto [code, out] = esper({"models", "download", "org/model", "--endpoint", hub_.endpoint(),
                                  "--models-dir", models});
        QVERIFY2(code == 0, qPrintable(out));
        QVERIFY2(out.contains("sha256 verified"), qPrintable(out));
        QCOMPARE(readAll(models + "/org/model/model.safetensors"), hub_.weights);
        QCOMPARE(readAll(models + "/org/model/config.json"), hub_.config);
        QVERIFY(!QFile::exists(models + "/org/model/pytorch_model.bin"));
        std::tie(code, out) = esper({"models", "size", "org/model", "--endpoint", hub_.endpoint()});
        QVERIFY2(code == 0 && out.contains("133.1 KB"), qPrintable(out));
        // --json: stdout holds one object (progress lines went to stderr, after it here).
        std::tie(code, out) = esper({"models", "download", "org/model", "--endpoint",
                                     hub_.endpoint(), "--models-dir", models, "--json"});
        QVERIFY2(code == 0, qPrintable(out));
        const QJsonObject done =
            QJsonDocument::fromJson(out.section('\n', 0, 0).toUtf8()).object();
        QCOMPARE(done["id"].toString(), QString("org/model"));
        QCOMPARE(done["source"].toString(), QString("download"));
        QCOMPARE(done["files"].toArray().size(), 2);
        QCOMPARE(done["files"].toArray()[1].toObject()["verified"].toString(), QString("sha256"));
        std::tie(code, out) = esper({"models", "list", "--json", "--models-dir", models});
        QVERIFY2(code == 0, qPrintable(out));
        const QJsonArray listed = QJsonDocument::fromJson(out.toUtf8()).array();
        QCOMPARE(listed.size(), 1);
        QCOMPARE(listed[0].toObject()["id"].toString(), QString("org/model"));
        QCOMPARE(listed[0].toObject()["bytes"].toDouble(),
                 double(hub_.weights.size() + hub_.config.size()));
        QCOMPARE(listed[0].toObject()["partial"].toBool(), false);
        std::tie(code, out) = esper({"models", "path", "org/model", "--models-dir", models});
        QVERIFY2(code == 0 && out.trimmed() == models + "/org/model", qPrintable(out));
        std::tie(code, out) = esper({"models", "remove", "org/model", "--models-dir", models});
        QVERIFY2(code == 0 && !QFile::exists(models + "/org/model"), qPrintable(out));
        std::tie(code, out) = esper({"models", "download", "org/missing", "--endpoint",
                                     hub_.endpoint(), "--models-dir", models});
        QVERIFY2(code == 1 && out.contains("does not exist"), qPrintable(out));
    }

    // A registry model served outside the hub (Wav2CLIP's checkpoint is a GitHub release)
    // comes from its own URL and is converted on arrival, without running anything in it.
    void aCheckpointFromItsOwnUrlIsConvertedOnArrival() {
        const auto files = hub::filesForModel(hub::settingsFromEnvironment(hub_.endpoint()),
                                              "descriptinc/wav2clip");
        ESPER_VERIFY_OK(files);
        QCOMPARE(files->size(), 1);
        QVERIFY(files->front().url.host() == "github.com");
        hub_.extraFiles["/releases/download/v1/Wav2CLIP.pt"] =
            readAll(esper::test::dataDir() + "/checkpoints/wav2clip_lightning.ckpt");
        RegistryModel model;
        model.id = "descriptinc/wav2clip";
        model.files.push_back(
            {"Wav2CLIP.pt",
             {},
             false,
             "",
             (hub_.endpoint() + "/releases/download/v1/Wav2CLIP.pt").toStdString()});
        const QString dest = tmp_.path() + "/wav2clip";
        ESPER_VERIFY_OK(
            hub::downloadFiles(settings(), hub::registryFiles(settings(), model), dest));
        auto converted = hub::finishModelFolder(dest);
        ESPER_VERIFY_OK(converted);
        QVERIFY2(converted->contains("wav2clip"), qPrintable(converted.value()));
        QVERIFY(QFile::exists(dest + "/model.safetensors"));
        QVERIFY(readAll(dest + "/config.json").contains("\"model_type\": \"wav2clip\""));
        QCOMPARE(hub::localModels(tmp_.path()).filter("wav2clip"), QStringList{"wav2clip"});
        // Done once: a second pass finds the safetensors and leaves the folder alone.
        QCOMPARE(hub::finishModelFolder(dest).value(), QString());
    }

    void modelsInTheHuggingFaceCacheAreFound() {
        const QString cache = tmp_.path() + "/hf-cache";
        const QString snapshot = cache + "/models--openai--clip-vit-base-patch32/snapshots/abc123";
        QVERIFY(QDir().mkpath(snapshot));
        QVERIFY(QDir().mkpath(cache + "/models--openai--clip-vit-base-patch32/refs"));
        QFile ref(cache + "/models--openai--clip-vit-base-patch32/refs/main");
        QVERIFY(ref.open(QIODevice::WriteOnly));
        ref.write("abc123\n");
        ref.close();
        QFile config(snapshot + "/config.json");
        QVERIFY(config.open(QIODevice::WriteOnly));
        config.write("{}");
        config.close();
        qputenv("HF_HUB_CACHE", cache.toUtf8());
        auto found = [](const char* repo, const char* revision = "main") {
            return QString::fromStdString(findInHfCache(repo, revision));
        };
        QCOMPARE(found("openai/clip-vit-base-patch32"), snapshot);
        QCOMPARE(found("openai/clip-vit-base-patch32", "abc123"), snapshot);
        QVERIFY(found("gpt2").isEmpty());
        // A bundle naming the model by its hub id uses the cached snapshot in place.
        QVERIFY(QFile::copy(esper::test::referenceDir() + "/models/gpt2-tiny/model.safetensors",
                            snapshot + "/model.safetensors"));
        const QString bundle = tmp_.path() + "/cached-bundle";
        QVERIFY(QDir().mkpath(bundle));
        QFile manifest(bundle + "/esper.json");
        QVERIFY(manifest.open(QIODevice::WriteOnly));
        manifest.write(
            R"({"clip": "openai/clip-vit-base-patch32", "lm": "openai/clip-vit-base-patch32",
                           "mapper": "esper.json"})");
        manifest.close();
        auto m =
            readBundleManifest(bundle.toStdString(), (tmp_.path() + "/empty-models").toStdString());
        ESPER_VERIFY_OK(m);
        QCOMPARE(QString::fromStdString(m->clip.path), snapshot);
        qunsetenv("HF_HUB_CACHE");
    }
};

QTEST_GUILESS_MAIN(TestHub)
#include "test_hub.moc"
