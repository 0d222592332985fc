// PyTorch checkpoints read without running anything: the ZIP and legacy formats and a
// Lightning checkpoint yield exactly the tensors of their safetensors twins (dtype, shape,
// bytes: shared storages, offsets, a transposed tensor, fp16/bf16/int64), the two malicious ones
// are refused by name and leave no marker behind, and damaged or hostile pickles end in errors.
#include "test_support.h"

#include "bundle/checkpoint_import.h"
#include "io/model_config.h"
#include "io/pickle_machine.h"
#include "io/safetensors.h"
#include "io/torch_checkpoint.h"
#include "models/causal_lm.h"
#include "models/mapper.h"
#include "models/weight_source.h"
#include "util/file_util.h"

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
