// Every reference model fixture through the engine: logits and features within 1e-4 of
// Hugging Face transformers, greedy tokens identical, the masked left-padded batch included.
#include "test_support.h"

#include "io/safetensors.h"
#include "kernels/weight_kernels.h"
#include "verify/reference_check.h"

#include <QDir>
#include <QTemporaryDir>
#include <cstring>
#include <set>

using namespace esper;

class TestParity : public QObject {
    Q_OBJECT

    static QString models() { return esper::test::referenceDir() + "/models"; }

    static void expectPass(const QString& dir, const std::set<std::string>& required,
                           const QString& io = {}) {
        ReferenceOptions options;
        options.ioPath = io.toStdString();
        auto report = verifyReference(dir.toStdString(), options);
        ESPER_VERIFY_OK(report);
        std::set<std::string> seen;
        for (const auto& c : report->checks) {
            seen.insert(c.name);
            if (c.isTokens)
                QVERIFY2(c.mismatches == 0, c.name.c_str());
            else
                QVERIFY2(c.maxAbsDiff <= 1e-4, qPrintable(QString::fromStdString(c.name) + " " +
                                                          QString::number(c.maxAbsDiff)));
        }
        for (const auto& name : required)
            QVERIFY2(seen.count(name), name.c_str());
        QVERIFY(report->passed());
    }

    const std::set<std::string> lmOutputs{"logits", "logits_prefix", "greedy_prefix",
                                          "logits_masked", "greedy_masked"};

private slots:
    void gpt2() { expectPass(models() + "/gpt2-tiny", lmOutputs); }
    void gpt2HubLayoutMatchesGpt2() {
        expectPass(models() + "/gpt2-tiny-hub-layout", lmOutputs,
                   models() + "/gpt2-tiny/io.safetensors");
    }
    void llama() { expectPass(models() + "/llama-tiny", lmOutputs); }

    // The compressed CPU modes against the same reference: greedy tokens identical, logits
    // within what int8 (per-group scales) and fp16 weights cost on these models, for every
    // kernel path this CPU has (the kernels' own test covers the paths one by one).
    void compressedWeightsStayCloseToTheReference_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("dtype");
        QTest::addColumn<double>("tolerance");
        for (const char* model : {"gpt2-tiny", "llama-tiny"}) {
            QTest::newRow((std::string(model) + " fp16").c_str()) << model << "fp16" << 1e-3;
            QTest::newRow((std::string(model) + " int8").c_str()) << model << "int8" << 2e-2;
            QTest::newRow((std::string(model) + " bf16").c_str()) << model << "bf16" << 0.1;
        }
        QTest::newRow("clip-tiny bf16") << "clip-tiny"
                                        << "bf16" << 0.1;
    }

    // CLIP in the other compressed modes: its products run in bf16 where the CPU has bf16
    // units (and are then held to bf16's tolerance by default), else in fp32 as loaded.
    void clipRunsItsProductsInBf16WhereTheCpuCan() {
        for (const char* dtype : {"int8", "fp16"}) {
            ReferenceOptions options;
            options.dtype = dtype;
            auto report = verifyReference((models() + "/clip-tiny").toStdString(), options);
            ESPER_VERIFY_OK(report);
            QVERIFY2(report->passed(), report->device.c_str());
            double largest = 0;
            for (const auto& c : report->checks) {
                largest = std::max(largest, c.maxAbsDiff);
                QCOMPARE(c.tolerance, kernels::fastBf16Products() ? 0.1 : 1e-4);
            }
            QCOMPARE(QString::fromStdString(report->device).contains("bf16 weights"),
                     kernels::fastBf16Products());
            if (kernels::fastBf16Products()) QVERIFY(largest > 1e-6);
        }
    }
    void compressedWeightsStayCloseToTheReference() {
        QFETCH(QString, model);
        QFETCH(QString, dtype);
        QFETCH(double, tolerance);
        ReferenceOptions options;
        options.dtype = dtype.toStdString();
        options.tolerance = tolerance;
        auto report = verifyReference((models() + "/" + model).toStdString(), options);
        ESPER_VERIFY_OK(report);
        QVERIFY(QString::fromStdString(report->device).contains(dtype + " weights"));
        for (const auto& c : report->checks)
            QVERIFY2(c.passed, qPrintable(QString::fromStdString(c.name) + " " +
                                          QString::number(c.maxAbsDiff)));
        // Not free: a perfect match would mean the weights were never compressed.
        double largest = 0;
        for (const auto& c : report->checks)
            largest = std::max(largest, c.maxAbsDiff);
        QVERIFY(largest > 1e-6);
    }
    void clip() {
        expectPass(models() + "/clip-tiny",
                   {"vision_last_hidden", "vision_pooled", "image_features", "text_last_hidden",
                    "text_pooled", "text_features", "logits_per_image", "logit_scale"});
    }

    // Wav2CLIP from ../shared (the ESC-50 clips may not be copied): spectrogram, ResNet
    // features and embedding of every clip, and two clips standardised as one batch.
    void wav2clip() {
        const QString dir = esper::test::sharedReferenceDir() + "/wav2clip";
        ESPER_REQUIRE_SHARED(dir + "/io.safetensors");
        auto report = verifyReference(dir.toStdString());
        ESPER_VERIFY_OK(report);
        QCOMPARE(report->family, std::string("wav2clip"));
        std::set<std::string> seen;
        for (const auto& c : report->checks) {
            seen.insert(c.name);
            QVERIFY2(c.passed, qPrintable(QString::fromStdString(c.name) + " " +
                                          QString::number(c.maxAbsDiff)));
        }
        for (const char* clip : {"sine440_1s", "chirp_noise_2.5s", "esc50_1-13572-A-46",
                                 "esc50_1-34495-A-14", "esc50_2-116400-A-0"})
            for (const char* output :
                 {".spectrogram", ".encoder_features", ".embedding", ".embedding.cosine"})
                QVERIFY2(seen.count(std::string(clip) + output), clip);
        QVERIFY(seen.count("batch2.embedding"));
        QVERIFY(report->passed());
    }

    // The check itself must notice a disagreement: perturb one recorded logit by 1e-3.
    void detectsAPerturbedReference() {
        auto io = SafetensorsFile::open((models() + "/gpt2-tiny/io.safetensors").toStdString());
        QVERIFY(io.ok());
        std::vector<std::vector<unsigned char>> copies;
        std::vector<TensorBytes> tensors;
        copies.reserve(io->tensors().size());
        for (const auto& t : io->tensors()) {
            copies.emplace_back(io->bytes(t), io->bytes(t) + (t.end - t.begin));
            if (t.name == "logits_prefix") {
                float v;
                std::memcpy(&v, copies.back().data() + 40, 4);
                v += 1e-3f;
                std::memcpy(copies.back().data() + 40, &v, 4);
            }
            tensors.push_back({t.name, t.dtype, t.shape, copies.back().data()});
        }
        QTemporaryDir dir;
        const auto path = (dir.path() + "/io.safetensors").toStdString();
        QVERIFY(writeSafetensors(path, tensors).ok());
        ReferenceOptions options;
        options.ioPath = path;
        auto report = verifyReference((models() + "/gpt2-tiny").toStdString(), options);
        QVERIFY(report.ok());
        QVERIFY(!report->passed());
        for (const auto& c : report->checks)
            QCOMPARE(c.passed, c.name != "logits_prefix");
    }

    void reportsUnusableInput() {
        auto report = verifyReference((models() + "/clip-tiny").toStdString(),
                                      {"cpu", "fp32", 1e-4, "/nonexistent/io.safetensors"});
        QVERIFY(!report.ok());
        QVERIFY(QString::fromStdString(report.error()).contains("/nonexistent/io.safetensors"));
        auto badDevice =
            verifyReference((models() + "/clip-tiny").toStdString(), {"tpu", "fp32", 1e-4, ""});
        QVERIFY(!badDevice.ok());
    }
};

QTEST_GUILESS_MAIN(TestParity)
#include "test_parity.moc"
