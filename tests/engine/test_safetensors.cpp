// The safetensors reader and writer, config.json parsing, and what happens with broken files:
// every malformed case must give a clear message, never a crash.
#include "test_support.h"

#include "io/model_config.h"
#include "io/safetensors.h"
#include "util/file_util.h"
#include "verify/model_check.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <cstring>

using namespace esper;

namespace {

std::string le64(uint64_t v) {
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i)
        s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
    return s;
}

std::string fileWith(const std::string& header, const std::string& data) {
    return le64(header.size()) + header + data;
}

} // namespace

class TestSafetensors : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;
    std::string path(const char* name) { return (tmp_.path() + "/" + name).toStdString(); }
    std::string writeRaw(const char* name, const std::string& bytes) {
        const auto p = path(name);
        if (!writeFileAtomic(p, bytes)) qFatal("cannot write test file");
        return p;
    }

private slots:
    void roundTripsEveryDtypeAndMetadata() {
        const float f32[6] = {1, -2, 3.5f, 0, 1e-8f, -7};
        const uint16_t f16[3] = {0x3c00, 0xc000, 0x7bff};
        const uint16_t bf16[2] = {0x3f80, 0xc2f7};
        const int64_t i64[4] = {-1, 0, 1LL << 40, 7};
        const bool b[3] = {true, false, true};
        const auto p = path("round.safetensors");
        QVERIFY(writeSafetensors(p,
                                 {{"a.f32", DType::F32, {2, 3}, f32},
                                  {"b.f16", DType::F16, {3}, f16},
                                  {"c.bf16", DType::BF16, {1, 2}, bf16},
                                  {"d.i64", DType::I64, {4}, i64},
                                  {"e.bool", DType::Bool, {3}, b},
                                  {"f.scalar", DType::F32, {}, f32},
                                  {"g.empty", DType::F32, {0, 4}, nullptr}},
                                 {{"format", "pt"}})
                    .ok());
        auto file = SafetensorsFile::open(p);
        ESPER_VERIFY_OK(file);
        QCOMPARE(file->tensors().size(), size_t(7));
        QCOMPARE(file->metadata().at("format"), std::string("pt"));
        const auto* a = file->find("a.f32");
        QVERIFY(a);
        QCOMPARE(a->shape, (std::vector<int64_t>{2, 3}));
        QVERIFY(std::memcmp(file->bytes(*a), f32, sizeof f32) == 0);
        QVERIFY(std::memcmp(file->bytes(*file->find("d.i64")), i64, sizeof i64) == 0);
        QVERIFY(std::memcmp(file->bytes(*file->find("b.f16")), f16, sizeof f16) == 0);
        QVERIFY(std::memcmp(file->bytes(*file->find("c.bf16")), bf16, sizeof bf16) == 0);
        QCOMPARE(file->find("f.scalar")->numel(), int64_t(1));
        QCOMPARE(file->find("g.empty")->numel(), int64_t(0));
        // The writer's layout: 8-aligned data start, larger dtypes first so offsets stay aligned.
        QFile raw(QString::fromStdString(p));
        QVERIFY(raw.open(QIODevice::ReadOnly));
        uint64_t headerLen = 0;
        raw.read(reinterpret_cast<char*>(&headerLen), 8);
        QCOMPARE(headerLen % 8, uint64_t(0));
        for (const auto& t : file->tensors())
            QCOMPARE((8 + headerLen + t.begin) % dtypeSize(t.dtype), uint64_t(0));
    }

    void readsTheReferenceFixtures() {
        auto file = SafetensorsFile::open(
            (esper::test::referenceDir() + "/models/gpt2-tiny-hub-layout/model.safetensors")
                .toStdString());
        ESPER_VERIFY_OK(file);
        QVERIFY(file->find("h.0.attn.c_attn.weight"));
        QCOMPARE(file->metadata().at("format"), std::string("pt"));
    }

    void rejectsMalformedFiles_data() {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("expected");
        const std::string ok4(16, '\0');
        auto add = [](const char* name, const std::string& bytes, const char* expected) {
            QTest::newRow(name) << QByteArray(bytes.data(), int(bytes.size())) << QString(expected);
        };
        add("empty file", "", "truncated");
        add("shorter than the length field", std::string(5, '\0'), "truncated");
        add("huge header length", le64(uint64_t(1) << 40) + "{}", "limit of 100,000,000");
        add("header longer than file", le64(1000) + "{}", "truncated");
        add("bad json", fileWith("{\"a\": {", ""), "malformed JSON");
        add("header is an array", fileWith("[1, 2]", ""), "not a JSON object");
        add("unknown dtype",
            fileWith(R"({"a":{"dtype":"F99","shape":[1],"data_offsets":[0,4]}})", ok4.substr(0, 4)),
            "unsupported dtype F99");
        add("negative dimension",
            fileWith(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})",
                     ok4.substr(0, 4)),
            "non-integer or negative");
        add("dtype and shape disagree with byte range",
            fileWith(R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,8]}})",
                     ok4.substr(0, 8)),
            "needs 16 bytes but data_offsets give 8");
        add("offsets past the end",
            fileWith(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})",
                     ok4.substr(0, 8)),
            "run past the end");
        add("overlapping tensors",
            fileWith(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                     R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                     ok4.substr(0, 12)),
            "overlap");
        add("hole in the data",
            fileWith(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", ok4.substr(0, 8)),
            "unused bytes");
        add("trailing bytes",
            fileWith(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                     ok4.substr(0, 12)),
            "after the last tensor");
        add("duplicate tensor name",
            fileWith(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                     R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                     ok4.substr(0, 8)),
            "twice");
        add("offsets backwards",
            fileWith(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}})", ok4.substr(0, 4)),
            "end before they begin");
        add("metadata not strings", fileWith(R"({"__metadata__":{"n":3}})", ""), "__metadata__");
        add("entry without offsets",
            fileWith(R"({"a":{"dtype":"F32","shape":[1]}})", ok4.substr(0, 4)),
            "dtype, shape and data_offsets");
        add("offsets not integers",
            fileWith(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":["0","4"]}})",
                     ok4.substr(0, 4)),
            "two non-negative integers");
    }

    void rejectsMalformedFiles() {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, expected);
        const auto p = writeRaw("bad.safetensors", bytes.toStdString());
        ESPER_VERIFY_FAILS_WITH(SafetensorsFile::open(p), expected, QString::fromStdString(p));
    }

    void rejectsBadConfigs_data() {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("expected");
        QTest::newRow("not json") << "{model_type: gpt2"
                                  << "not valid JSON";
        QTest::newRow("no model_type") << R"({"n_embd": 64})"
                                       << "no model_type";
        QTest::newRow("unsupported family") << R"({"model_type": "bert"})"
                                            << "'bert' is not supported";
        QTest::newRow("heads do not divide width")
            << R"({"model_type": "gpt2", "n_embd": 65, "n_head": 4})"
            << "multiple of n_head";
        QTest::newRow("wrong type") << R"({"model_type": "gpt2", "n_layer": "two"})"
                                    << "n_layer is not an integer";
        QTest::newRow("bad activation") << R"({"model_type": "llama", "hidden_act": "swoosh"})"
                                        << "swoosh";
        // A zero that used to reach a division (SIGFPE) before its range was checked.
        QTest::newRow("gpt2 n_head 0") << R"({"model_type": "gpt2", "n_head": 0})"
                                       << "n_head = 0 is out of range";
        QTest::newRow("llama heads 0") << R"({"model_type": "llama", "num_attention_heads": 0})"
                                       << "num_attention_heads = 0 is out of range";
        QTest::newRow("llama kv heads 0") << R"({"model_type": "llama", "num_key_value_heads": 0})"
                                          << "num_key_value_heads = 0 is out of range";
        QTest::newRow("clip patch 0")
            << R"({"model_type": "clip", "vision_config": {"patch_size": 0}})"
            << "patch_size = 0 is out of range";
        QTest::newRow("clip heads 0")
            << R"({"model_type": "clip", "text_config": {"num_attention_heads": 0}})"
            << "num_attention_heads = 0 is out of range";
        QTest::newRow("absurd width") << R"({"model_type": "gpt2", "n_embd": 100000000000})"
                                      << "n_embd = 100000000000 is out of range";
        QTest::newRow("unsupported rope scaling")
            << R"({"model_type": "llama", "rope_scaling": {"rope_type": "yarn"}})"
            << "yarn";
    }

    void rejectsBadConfigs() {
        QFETCH(QString, json);
        QFETCH(QString, expected);
        auto c = parseModelConfig(json.toStdString(), "config.json");
        QVERIFY(!c.ok());
        QVERIFY2(QString::fromStdString(c.error()).contains(expected),
                 qPrintable(QString::fromStdString(c.error())));
    }

    void readsBothRopeSpellings() {
        auto modern = parseModelConfig(
            R"({"model_type":"llama","hidden_size":64,"num_attention_heads":4,
                "rope_parameters":{"rope_theta":500000.0,"rope_type":"default"}})",
            "c");
        auto legacy = parseModelConfig(
            R"({"model_type":"llama","hidden_size":64,"num_attention_heads":4,"rope_theta":20000.0,
                "rope_scaling":null})",
            "c");
        auto neither = parseModelConfig(R"({"model_type":"llama"})", "c");
        QVERIFY(modern.ok() && legacy.ok() && neither.ok());
        QCOMPARE(std::get<LlamaConfig>(modern.value()).ropeTheta, 500000.0);
        QCOMPARE(std::get<LlamaConfig>(legacy.value()).ropeTheta, 20000.0);
        QCOMPARE(std::get<LlamaConfig>(neither.value()).ropeTheta, 10000.0);
        QCOMPARE(std::get<LlamaConfig>(legacy.value()).headDim, int64_t(16)); // implied
    }

    // Model folders whose files parse but do not fit together.
    void rejectsMismatchedModelFolders() {
        const QString fixture = esper::test::referenceDir() + "/models/gpt2-tiny";
        auto good = inspectModel(fixture.toStdString());
        ESPER_VERIFY_OK(good);
        QCOMPARE(good->family, std::string("gpt2"));

        // A missing tensor: the file without h.1.mlp.c_fc.weight (the rest kept contiguous).
        auto src = SafetensorsFile::open((fixture + "/model.safetensors").toStdString());
        QVERIFY(src.ok());
        std::vector<TensorBytes> kept;
        for (const auto& t : src->tensors())
            if (t.name != "transformer.h.1.mlp.c_fc.weight")
                kept.push_back({t.name, t.dtype, t.shape, src->bytes(t)});
        const QString missingDir = tmp_.path() + "/missing";
        QDir().mkpath(missingDir);
        QFile::copy(fixture + "/config.json", missingDir + "/config.json");
        QVERIFY(writeSafetensors((missingDir + "/model.safetensors").toStdString(), kept).ok());
        auto missing = inspectModel(missingDir.toStdString());
        QVERIFY(!missing.ok());
        QVERIFY2(
            QString::fromStdString(missing.error()).contains("no tensor 'h.1.mlp.c_fc.weight'"),
            missing.error().c_str());

        // A config that implies other shapes than the weights have.
        const QString wrongDir = tmp_.path() + "/wrong";
        QDir().mkpath(wrongDir);
        QFile::copy(fixture + "/model.safetensors", wrongDir + "/model.safetensors");
        QVERIFY(writeFileAtomic((wrongDir + "/config.json").toStdString(),
                                R"({"model_type":"gpt2","n_embd":32,"n_head":4,"n_layer":2,
                                    "vocab_size":512,"n_positions":64})")
                    .ok());
        auto wrong = inspectModel(wrongDir.toStdString());
        QVERIFY(!wrong.ok());
        QVERIFY2(QString::fromStdString(wrong.error()).contains("do not belong together"),
                 wrong.error().c_str());

        // No weights at all, and weights cut short.
        const QString emptyDir = tmp_.path() + "/empty";
        QDir().mkpath(emptyDir);
        QFile::copy(fixture + "/config.json", emptyDir + "/config.json");
        auto none = inspectModel(emptyDir.toStdString());
        QVERIFY(!none.ok());
        QVERIFY(QString::fromStdString(none.error()).contains("cannot open"));
        QFile whole(fixture + "/model.safetensors");
        QVERIFY(whole.open(QIODevice::ReadOnly));
        const QByteArray bytes = whole.readAll();
        QVERIFY(writeFileAtomic((emptyDir + "/model.safetensors").toStdString(),
                                bytes.left(bytes.size() / 2).toStdString())
                    .ok());
        auto cut = inspectModel(emptyDir.toStdString());
        QVERIFY(!cut.ok());
        QVERIFY2(QString::fromStdString(cut.error()).contains("truncated"), cut.error().c_str());
    }
};

QTEST_GUILESS_MAIN(TestSafetensors)
#include "test_safetensors.moc"
