// PyTorch checkpoints read without running anything: the ZIP and legacy formats and a
// Lightning checkpoint yield exactly the tensors of their safetensors twins (dtype, shape,
// bytes: shared storages, offsets, a transposed tensor, fp16/bf16/int64), the two malicious ones
// are refused by name and leave no marker behind, and damaged or hostile pickles end in errors.
#include <ATen/ATen.h>

#include "test_support.h"

#include "bundle/bundle_manifest.h"
#include "bundle/checkpoint_import.h"
#include "captioning/captioner.h"
#include "io/model_config.h"
#include "io/pickle_machine.h"
#include "io/safetensors.h"
#include "io/torch_checkpoint.h"
#include "models/causal_lm.h"
#include "models/mapper.h"
#include "models/wav2clip.h"
#include "models/weight_source.h"
#include "util/file_util.h"

#include "test_images.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <algorithm>
#include <cstring>
#include <map>

using namespace esper;

namespace {

QString checkpointsDir() {
    return esper::test::sharedReferenceDir() + "/checkpoints";
}

// A string literal's bytes, NULs included.
template <size_t N> std::string bytes(const char (&literal)[N]) {
    return std::string(literal, N - 1);
}

std::string readAll(const QString& path) {
    auto text = readTextFile(path.toStdString());
    return text ? text.value() : std::string();
}

} // namespace

class TestCheckpoints : public QObject {
    Q_OBJECT

    void checkAgainstTwin(const QString& file, const QString& format, const QString& twin) {
        auto checkpoint = readTorchCheckpoint((checkpointsDir() + "/" + file).toStdString());
        ESPER_VERIFY_OK(checkpoint);
        QCOMPARE(QString::fromStdString(checkpoint->format), format);
        auto reference =
            SafetensorsFile::open((checkpointsDir() + "/" + twin + ".safetensors").toStdString());
        ESPER_VERIFY_OK(reference);
        std::map<std::string, const CheckpointTensor*> got;
        for (const auto& [name, tensor] : stateDictOf(checkpoint.value()))
            got[name] = tensor;
        QCOMPARE(got.size(), reference->tensors().size());
        for (const auto& want : reference->tensors()) {
            const auto it = got.find(want.name);
            QVERIFY2(it != got.end(), want.name.c_str());
            const CheckpointTensor& t = *it->second;
            QVERIFY2(t.dtype == want.dtype, want.name.c_str());
            QCOMPARE(t.shape, want.shape);
            QCOMPARE(t.bytes.size(), size_t(want.end - want.begin));
            QVERIFY2(std::memcmp(t.bytes.data(), reference->bytes(want), t.bytes.size()) == 0,
                     want.name.c_str());
        }
    }

private slots:
    // The legacy file holds the ZIP file's tensors, so both have one twin.
    void tensorsMatchTheirSafetensorsTwin() {
        const struct {
            const char *file, *format, *twin;
        } cases[] = {{"clipcap_layout.pt", "zip", "clipcap_layout"},
                     {"clipcap_layout_legacy.pt", "legacy", "clipcap_layout"},
                     {"lightning_style.ckpt", "zip", "lightning_style"}};
        ESPER_REQUIRE_SHARED(checkpointsDir() + "/meta.json");
        for (const auto& c : cases) {
            checkAgainstTwin(c.file, c.format, c.twin);
            if (QTest::currentTestFailed()) return;
        }
    }

    // What a Lightning checkpoint holds besides the weights is walked or listed, never rebuilt.
    void lightningExtrasAreSkippedSafely() {
        const QString path = checkpointsDir() + "/lightning_style.ckpt";
        ESPER_REQUIRE_SHARED(path);
        auto checkpoint = readTorchCheckpoint(path.toStdString());
        ESPER_VERIFY_OK(checkpoint);
        QCOMPARE(checkpoint->skipped,
                 (std::vector<std::string>{"argparse.Namespace at hyper_parameters.args"}));
        bool optimizerState = false;
        for (const auto& t : checkpoint->tensors)
            optimizerState |= t.name == "optimizer_states.0.state.0.exp_avg";
        QVERIFY(optimizerState);
    }

    // Loading these in Python would run a command; here they are refused by what they would
    // call, and nothing runs: the marker files they would create do not appear.
    void maliciousCheckpointsAreRefusedAndRunNothing_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("callee");
        QTest::newRow("os.system") << "malicious_os_system.pt"
                                   << "posix.system";
        QTest::newRow("eval in zip") << "malicious_eval_in_zip.pt"
                                     << "__builtin__.eval";
    }

    void maliciousCheckpointsAreRefusedAndRunNothing() {
        QFETCH(QString, file);
        QFETCH(QString, callee);
        const QString path = checkpointsDir() + "/" + file;
        ESPER_REQUIRE_SHARED(path);
        const QJsonObject meta =
            QJsonDocument::fromJson(
                QByteArray::fromStdString(readAll(checkpointsDir() + "/meta.json")))
                .object();
        for (const auto& marker : meta["marker_files"].toArray())
            QFile::remove(marker.toString());
        auto checkpoint = readTorchCheckpoint(path.toStdString());
        QVERIFY(!checkpoint.ok());
        const QString message = QString::fromStdString(checkpoint.error());
        QVERIFY2(message.contains(file) && message.contains(callee) &&
                     message.contains("nothing in it was run"),
                 qPrintable(message));
        for (const auto& marker : meta["marker_files"].toArray())
            QVERIFY2(!QFile::exists(marker.toString()), qPrintable(marker.toString()));
    }

    // esper models import: a Lightning checkpoint's mapper becomes mapper.safetensors under the
    // names bundles use, its bytes as they were.
    void aLightningMapperIsImported() {
        const QString path = checkpointsDir() + "/lightning_style.ckpt";
        ESPER_REQUIRE_SHARED(path);
        QTemporaryDir out;
        auto report = importCheckpoint(path.toStdString(), out.path().toStdString());
        ESPER_VERIFY_OK(report);
        QVERIFY(report->kind == ImportKind::Mapper);
        auto mapper = SafetensorsFile::open((out.path() + "/mapper.safetensors").toStdString());
        ESPER_VERIFY_OK(mapper);
        auto twin = SafetensorsFile::open(
            (checkpointsDir() + "/lightning_style.safetensors").toStdString());
        ESPER_VERIFY_OK(twin);
        QCOMPARE(mapper->tensors().size(), size_t(4));
        for (const auto& t : mapper->tensors()) {
            const TensorInfo* want = twin->find("model.mapper." + t.name);
            QVERIFY2(want, t.name.c_str());
            QVERIFY(want->dtype == t.dtype && want->shape == t.shape);
            QVERIFY(std::memcmp(mapper->bytes(t), twin->bytes(*want), t.end - t.begin) == 0);
        }
        QVERIFY(std::find(report->notes.begin(), report->notes.end(),
                          "not imported: argparse.Namespace at hyper_parameters.args") !=
                report->notes.end());
    }

    // A ClipCap checkpoint becomes a GPT-2 folder the engine loads (config inferred from the
    // shapes, the tied head dropped) and a mapper; the head count, which no shape holds, is
    // asked for when the width is not one of GPT-2's.
    void aClipCapCheckpointBecomesAModelFolderAndAMapper() {
        const QString path = checkpointsDir() + "/clipcap_layout.pt";
        ESPER_REQUIRE_SHARED(path);
        QTemporaryDir out;
        auto unknown = importCheckpoint(path.toStdString(), out.path().toStdString());
        QVERIFY(!unknown.ok());
        QVERIFY(QString::fromStdString(unknown.error()).contains("--heads"));
        ImportOptions options;
        options.heads = 4;
        auto report = importCheckpoint(path.toStdString(), out.path().toStdString(), options);
        ESPER_VERIFY_OK(report);
        QVERIFY(report->kind == ImportKind::ClipCap);
        auto config = readModelConfig((out.path() + "/lm").toStdString());
        ESPER_VERIFY_OK(config);
        const auto& gpt2 = std::get<Gpt2Config>(config.value());
        QCOMPARE(gpt2.embd, int64_t(64));
        QCOMPARE(gpt2.layers, int64_t(2));
        QCOMPARE(gpt2.heads, int64_t(4));
        QCOMPARE(gpt2.vocabSize, int64_t(97));
        QCOMPARE(gpt2.positions, int64_t(40));
        auto lm = loadCausalLm((out.path() + "/lm").toStdString(), {});
        ESPER_VERIFY_OK(lm);
        auto weights = FileWeights::open((out.path() + "/mapper.safetensors").toStdString(), {});
        ESPER_VERIFY_OK(weights);
        ESPER_VERIFY_OK(Mapper::create({32, 64, 10}, *weights.value()));
    }

    // A ClipCap checkpoint made around gpt2-tiny's own weights comes back as that model (every
    // tensor bit-equal, the tied head dropped) inside a bundle that captions: esper.json names
    // the CLIP model and tokenizer given, the mapper reads raw features, and no prompt is used.
    void anImportedClipCapIsABundleThatCaptions() {
        const QString models = esper::test::referenceDir() + "/models";
        // A CLIP folder as the hub has it: weights and tokenizer files together.
        QTemporaryDir clip;
        for (const QString& from :
             {models + "/clip-tiny/config.json", models + "/clip-tiny/model.safetensors",
              esper::test::dataDir() + "/tokenizers/clip-tiny/vocab.json",
              esper::test::dataDir() + "/tokenizers/clip-tiny/merges.txt"})
            QVERIFY(QFile::copy(from, clip.path() + "/" + QFileInfo(from).fileName()));
        QTemporaryDir out;
        ImportOptions options;
        options.heads = 4;
        options.clip = clip.path().toStdString();
        options.tokenizer = (esper::test::dataDir() + "/tokenizers/gpt2-tiny").toStdString();
        auto report = importCheckpoint(
            (esper::test::dataDir() + "/checkpoints/clipcap_gpt2_tiny.pt").toStdString(),
            out.path().toStdString(), options);
        ESPER_VERIFY_OK(report);
        QVERIFY(report->kind == ImportKind::ClipCap);
        auto imported = SafetensorsFile::open((out.path() + "/lm/model.safetensors").toStdString());
        ESPER_VERIFY_OK(imported);
        auto original =
            SafetensorsFile::open((models + "/gpt2-tiny/model.safetensors").toStdString());
        ESPER_VERIFY_OK(original);
        QCOMPARE(imported->tensors().size(), original->tensors().size());
        for (const auto& want : original->tensors()) {
            const TensorInfo* got = imported->find(want.name);
            QVERIFY2(got && got->shape == want.shape, want.name.c_str());
            QVERIFY2(std::memcmp(imported->bytes(*got), original->bytes(want),
                                 want.end - want.begin) == 0,
                     want.name.c_str());
        }
        auto bundle = readBundleManifest(out.path().toStdString());
        ESPER_VERIFY_OK(bundle);
        QVERIFY(!bundle->mapperScaledInput);
        QCOMPARE(bundle->prefixLength, int64_t(4));
        QCOMPARE(bundle->styles, std::vector<std::string>{"plain"});
        QCOMPARE(QString::fromStdString(bundle->lm.tokenizer),
                 QFileInfo(QString::fromStdString(options.tokenizer)).absoluteFilePath());
        auto captioner = Captioner::load(bundle.value());
        ESPER_VERIFY_OK(captioner);
        CaptionOptions o;
        o.decode.maxNewTokens = 6;
        auto result = captioner.value()->caption(esper::test::patternImage(40, 40, 2), "a",
                                                 captioner.value()->bundleStyles(), o);
        ESPER_VERIFY_OK(result);
        QCOMPARE(result->captions.size(), size_t(1));
        QCOMPARE(QString::fromStdString(result->captions[0].style.prompt), QString());
        QVERIFY(!result->captions[0].tokens.empty());
        // Told the mapper reads scaled features, the manifest says so and captions still load.
        QTemporaryDir scaled;
        options.mapperInput = MapperInput::Scaled;
        ESPER_VERIFY_OK(importCheckpoint(
            (esper::test::dataDir() + "/checkpoints/clipcap_gpt2_tiny.pt").toStdString(),
            scaled.path().toStdString(), options));
        auto scaledBundle = readBundleManifest(scaled.path().toStdString());
        ESPER_VERIFY_OK(scaledBundle);
        QVERIFY(scaledBundle->mapperScaledInput);
        QCOMPARE(scaledBundle->styles, std::vector<std::string>{"caption"});
    }

    // ClipCap's mappers read CLIP features as they come; ESPER's divide them by sqrt(k·E/C)
    // first. The same weights differ by exactly that division.
    void aRawMapperSkipsEspersDivision() {
        MapperShape shape{16, 8, 3};
        const auto scaled = Mapper::randomInit(shape, {}, 4);
        shape.scaledInput = false;
        const auto raw = Mapper::randomInit(shape, {}, 4);
        const at::Tensor x = at::randn({2, 16});
        const double s = std::sqrt(3.0 * 8 / 16);
        QVERIFY(at::allclose(raw->forward(x / s), scaled->forward(x), 1e-6, 1e-6));
        QVERIFY(!at::allclose(raw->forward(x), scaled->forward(x), 1e-3, 1e-3));
    }

    // Wav2CLIP's released layout (a Lightning checkpoint of its distillation): the encoder and
    // its audio MLP become a folder the engine loads; the image-side MLP, the loss's scale and
    // the optimizer stay behind.
    void aWav2ClipCheckpointBecomesAnAudioFolder() {
        const std::string file =
            (esper::test::dataDir() + "/checkpoints/wav2clip_lightning.ckpt").toStdString();
        QTemporaryDir out;
        auto report = importCheckpoint(file, out.path().toStdString());
        ESPER_VERIFY_OK(report);
        QVERIFY(report->kind == ImportKind::Wav2Clip);
        auto checkpoint = readTorchCheckpoint(file);
        ESPER_VERIFY_OK(checkpoint);
        auto imported = SafetensorsFile::open((out.path() + "/model.safetensors").toStdString());
        ESPER_VERIFY_OK(imported);
        size_t kept = 0;
        for (const auto& [name, t] : stateDictOf(checkpoint.value())) {
            const TensorInfo* got = imported->find(name);
            const bool wanted =
                name.starts_with("audio_encoder.") || name.starts_with("audio_transform.");
            QVERIFY2((got != nullptr) == wanted, name.c_str());
            if (!got) continue;
            ++kept;
            QVERIFY(got->dtype == t->dtype && got->shape == t->shape);
            QVERIFY(std::memcmp(imported->bytes(*got), t->bytes.data(), t->bytes.size()) == 0);
        }
        QCOMPARE(imported->tensors().size(), kept);
        QVERIFY(isWav2ClipFolder(out.path().toStdString()));
        auto text = readTextFile((out.path() + "/config.json").toStdString());
        ESPER_VERIFY_OK(text);
        auto config = parseWav2ClipConfig(text.value(), "config.json");
        ESPER_VERIFY_OK(config);
        QCOMPARE(config->widths, (std::vector<int64_t>{4, 8, 8, 16}));
        QCOMPARE(config->blocks, (std::vector<int64_t>{2, 1, 1, 1}));
        QCOMPARE(config->mlp, (std::vector<int64_t>{16, 16, 16}));
        auto model = Wav2Clip::load(out.path().toStdString(), {});
        ESPER_VERIFY_OK(model);
        const at::Tensor wave = at::sin(at::arange(16000, at::kFloat) * (2 * M_PI * 440 / 16000));
        const auto encoded = model.value()->encode(wave.unsqueeze(0));
        QCOMPARE(encoded.embedding.sizes().vec(), (std::vector<int64_t>{1, 16}));
        QVERIFY(at::isfinite(encoded.embedding).all().item<bool>());
        QVERIFY(std::any_of(report->notes.begin(), report->notes.end(), [](const std::string& n) {
            return n.find("used only in training left out") != std::string::npos;
        }));
        ImportOptions asClipCap;
        asClipCap.kind = ImportKind::ClipCap;
        QTemporaryDir wrong;
        QVERIFY(!importCheckpoint(file, wrong.path().toStdString(), asClipCap).ok());
    }

    // A Hugging Face folder is copied, or linked, with only what a model folder needs.
    void aHuggingFaceFolderIsCopiedOrLinked() {
        const QString from = esper::test::referenceDir() + "/models/gpt2-tiny";
        for (bool link : {false, true}) {
            QTemporaryDir out;
            ImportOptions options;
            options.link = link;
            auto report = importCheckpoint(from.toStdString(), out.path().toStdString(), options);
            ESPER_VERIFY_OK(report);
            QVERIFY(report->kind == ImportKind::Folder);
            const QFileInfo weights(out.path() + "/model.safetensors");
            QVERIFY(weights.exists());
            QCOMPARE(weights.isSymLink(), link);
            QVERIFY(!QFileInfo::exists(out.path() + "/io.safetensors") ||
                    QFileInfo(out.path() + "/io.safetensors").size() > 0);
            ESPER_VERIFY_OK(readModelConfig(out.path().toStdString()));
        }
        QTemporaryDir empty;
        QVERIFY(
            !importCheckpoint(empty.path().toStdString(), empty.path().toStdString() + "/o").ok());
    }

    // Every cut of a real checkpoint is an error, never a crash or an out-of-bounds read.
    void cutCheckpointsAreErrors() {
        const QString path = checkpointsDir() + "/clipcap_layout.pt";
        ESPER_REQUIRE_SHARED(path);
        const std::string whole = readAll(path);
        for (size_t cut : {size_t(0), size_t(3), size_t(40), size_t(600), whole.size() / 2,
                           whole.size() - 100, whole.size() - 1}) {
            auto checkpoint =
                parseTorchCheckpoint(std::string_view(whole).substr(0, cut), "cut.pt");
            QVERIFY2(!checkpoint.ok(), qPrintable(QString("cut at %1").arg(cut)));
            QVERIFY(QString::fromStdString(checkpoint.error()).contains("cut.pt"));
        }
        const std::string legacy = readAll(checkpointsDir() + "/clipcap_layout_legacy.pt");
        for (size_t cut : {size_t(20), size_t(300), legacy.size() / 2, legacy.size() - 8})
            QVERIFY(!parseTorchCheckpoint(std::string_view(legacy).substr(0, cut), "cut.pt").ok());
    }

    // Hand-made pickles: a cycle reads, a flood of values is capped, an unknown class becomes a
    // placeholder, and opcodes that only build objects by running code are refused.
    void hostilePicklesAreHandled() {
        // l = []; l.append(l): PROTO 2, EMPTY_LIST, BINPUT 0, BINGET 0, APPEND, STOP.
        auto cycle = parseTorchCheckpoint(bytes("\x80\x02]q\x00h\x00"
                                                "a."),
                                          "cycle.pkl");
        ESPER_VERIFY_OK(cycle);
        std::string flood = "\x80\x02]";
        for (int i = 0; i < 4'100'000; ++i)
            flood += "]a"; // append an empty list, four million times
        flood += ".";
        auto flooded = parseTorchCheckpoint(flood, "flood.pkl");
        QVERIFY(!flooded.ok());
        QVERIFY(QString::fromStdString(flooded.error()).contains("more than any checkpoint holds"));
        // someone.Class() with state: a placeholder, listed, never called.
        auto object = parseTorchCheckpoint(
            bytes("\x80\x02}X\x01\x00\x00\x00kcsomeone\nClass\n)\x81}bs."), "object.pkl");
        ESPER_VERIFY_OK(object);
        QCOMPARE(object->skipped, (std::vector<std::string>{"someone.Class at k"}));
        // INST ('i') builds an object by calling its class: not an opcode a checkpoint uses.
        auto inst = parseTorchCheckpoint(bytes("\x80\x02(isomeone\nClass\n."), "inst.pkl");
        QVERIFY(!inst.ok());
        QVERIFY(QString::fromStdString(inst.error()).contains("opcode 0x69"));
        QVERIFY(isDangerousGlobal("subprocess", "Popen"));
        QVERIFY(isDangerousGlobal("numpy", "eval"));
        QVERIFY(!isDangerousGlobal("torch._utils", "_rebuild_tensor_v2"));
    }
};

QTEST_GUILESS_MAIN(TestCheckpoints)
#include "test_checkpoints.moc"
