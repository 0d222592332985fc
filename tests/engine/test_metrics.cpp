// BLEU, ROUGE-L and CIDEr-D against pycocoevalcap's outputs (1e-12), the spec's edge cases, and
// the evaluation-set reader's errors.
#include "test_support.h"

#include "metrics/bleu.h"
#include "metrics/cider.h"
#include "metrics/eval_set_json.h"
#include "metrics/ptb_tokenizer.h"
#include "metrics/rouge.h"
#include "text/unicode.h"
#include "util/file_util.h"

#include <QDir>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <algorithm>
#include <cmath>

using namespace esper;

class TestMetrics : public QObject {
    Q_OBJECT

private slots:
    void matchesPycocoevalcap_data() {
        QTest::addColumn<QString>("path");
        const QDir dir(esper::test::referenceDir() + "/metrics/cases");
        const auto files = dir.entryList({"*.json"}, QDir::Files, QDir::Name);
        QVERIFY(files.size() >= 2);
        for (const auto& f : files)
            QTest::newRow(qPrintable(f)) << dir.filePath(f);
    }

    void matchesPycocoevalcap() {
        QFETCH(QString, path);
        auto text = readTextFile(path.toStdString());
        QVERIFY(text.ok());
        auto set = parseEvalSetJson(text.value(), path.toStdString());
        ESPER_VERIFY_OK(set);
        const auto doc = QJsonDocument::fromJson(QByteArray::fromStdString(text.value())).object();
        const auto order = doc["order"].toArray();
        QCOMPARE(size_t(order.size()), set->size());
        for (const auto& r : computeTextMetrics(set.value())) {
            const QString name = QString::fromStdString(r.name);
            const double want = doc["expected"].toObject()[name].toDouble();
            QVERIFY2(std::abs(r.corpus - want) <= 1e-12,
                     qPrintable(name + QString(" %1 vs %2").arg(r.corpus, 0, 'g', 17).arg(want)));
            const auto perImage = doc["expected_per_image"].toObject()[name].toArray();
            for (int i = 0; i < order.size(); ++i) {
                size_t at = 0;
                while (at < set->size() && set.value()[at].id != order[i].toString().toStdString())
                    ++at;
                QVERIFY(at < set->size());
                QVERIFY2(std::abs(r.perImage[at] - perImage[i].toDouble()) <= 1e-12,
                         qPrintable(name + " image " + order[i].toString()));
            }
        }
    }

    void ptbTokenizationMatchesTheJavaTool() {
        auto text = readTextFile(
            (esper::test::referenceDir() + "/metrics/ptb_tokenizer_cases.json").toStdString());
        QVERIFY(text.ok());
        const auto cases = QJsonDocument::fromJson(QByteArray::fromStdString(text.value()))
                               .object()["cases"]
                               .toArray();
        QVERIFY(cases.size() >= 15);
        std::vector<std::string> inputs;
        for (const auto& c : cases) {
            const auto o = c.toObject();
            inputs.push_back(o["input"].toString().toStdString());
            std::string javaLine; // the tool's own output line, before the wrapper's filter
            for (const auto& t : ptbTokenize(inputs.back()))
                javaLine += (javaLine.empty() ? "" : " ") + unicode::lower(t);
            QCOMPARE(QString::fromStdString(javaLine), o["java_output_line"].toString());
            QCOMPARE(QString::fromStdString(cocoTokenize(inputs.back())),
                     o["pycocoevalcap_tokenized"].toString());
        }
        const auto batch = cocoTokenizeBatch(inputs);
        for (int i = 0; i < cases.size(); ++i)
            QCOMPARE(QString::fromStdString(batch[size_t(i)]),
                     cases[i].toObject()["pycocoevalcap_tokenized"].toString());
    }

    void ptbTokenizedSetScoresLikeHandTokenizedText() {
        EvalSet raw{
            {"1", {"A man riding a wave.", "A surfer's big wave!"}, "A man surfing, a wave."},
            {"2", {"Two dogs (brown) play."}, "Two dogs playing."}};
        const EvalSet tokenized{
            {"1", {"a man riding a wave", "a surfer 's big wave"}, "a man surfing a wave"},
            {"2", {"two dogs -lrb- brown -rrb- play"}, "two dogs playing"}};
        ptbTokenizeSet(raw);
        for (size_t i = 0; i < raw.size(); ++i) {
            QCOMPARE(raw[i].references, tokenized[i].references);
            QCOMPARE(raw[i].candidate, tokenized[i].candidate);
        }
        const auto a = computeTextMetrics(raw), b = computeTextMetrics(tokenized);
        for (size_t m = 0; m < a.size(); ++m)
            QCOMPARE(a[m].corpus, b[m].corpus);
    }

    void ptbSpecBehaviours() {
        QCOMPARE(cocoTokenize("A (red) double-decker bus, 50% off!"),
                 std::string("a -lrb- red -rrb- double-decker bus 50 % off"));
        QCOMPARE(cocoTokenize("½ a cup :) e.g. this"), std::string("1/2 a cup :-rrb- e.g. this"));
        QCOMPARE(cocoTokenize("It said \"hi\" \u2014 then left"),
                 std::string("it said hi then left"));
        QCOMPARE(cocoTokenize("multi\nline"), std::string("multi line"));
    }

    void ptbLineBreakQuirkShiftsLaterCaptions() {
        size_t broken = 0;
        const auto out = cocoTokenizeBatch({"a cat\rsits", "a dog", "a bird"}, &broken);
        QCOMPARE(broken, size_t(1));
        QCOMPARE(out, (std::vector<std::string>{"a cat", "sits", "a dog"}));
    }

    void singleImageCiderIsZero() {
        const EvalSet one{{"1", {"a dog runs", "a dog is running"}, "a dog runs"}};
        QCOMPARE(ciderD(one).corpus, 0.0);
    }

    void emptyCandidate() {
        const EvalSet set{{"1", {"a cat"}, ""}, {"2", {"a dog"}, "a dog"}};
        const auto b = bleu(set);
        QVERIFY(b[0].perImage[0] < 1e-5); // only the epsilons keep it above zero
        QCOMPARE(rougeL(set).perImage[0], 0.0);
        QCOMPARE(ciderD(set).perImage[0], 0.0);
    }

    void identicalReferencesAndRepeatedWords() {
        // Clipping: "the the the" matches "the" only as often as a reference holds it.
        const EvalSet set{{"1", {"the cat sat", "the cat sat"}, "the the the"},
                          {"2", {"a dog ran"}, "a dog ran"}};
        const auto b = bleu(set);
        // Equal lengths still pay a tiny brevity penalty: the epsilons make the ratio < 1.
        const double penalty = std::exp(1 - (3 + 1e-9) / (3 + 1e-15));
        QVERIFY(std::abs(b[0].perImage[0] - penalty * (1 + 1e-15) / (3 + 1e-9)) < 1e-15);
        QVERIFY(std::abs(b[0].perImage[1] - 1.0) < 1e-9);
        QCOMPARE(rougeL(set).perImage[1], 1.0);
        // N-grams present in every image's references weigh zero in CIDEr: none here.
        QVERIFY(ciderD(set).perImage[1] > 0);
    }

    void closestReferenceLengthTiesToTheShorter() {
        // Candidate of 3 tokens, references of 2 and 4: the tie picks 2, so no brevity penalty.
        const EvalSet set{{"1", {"a b c d", "a b"}, "a b c"}};
        const double p1 = (3 + 1e-15) / (3 + 1e-9);
        QVERIFY(std::abs(bleu(set)[0].corpus - p1) < 1e-12);
    }

    // ROUGE-L is quadratic in length: a caption of a million tokens ran for hours. Captions
    // are cut to kMaxMetricTokens for the metrics, with a count for the warning; shorter ones,
    // and so the reference figures, are untouched.
    void runawayCaptionsAreCutForTheMetrics() {
        std::string huge;
        for (int i = 0; i < 1'000'000; ++i)
            huge += i ? " w" + std::to_string(i % 97) : "w0";
        EvalSet set{{"1", {huge, "a cat on a mat"}, huge}, {"2", {"a dog"}, "a dog runs"}};
        QElapsedTimer timer;
        timer.start();
        QCOMPARE(capCaptionLengths(set), size_t(2));
        const auto metrics = computeTextMetrics(set);
        QVERIFY2(timer.elapsed() < 10000, qPrintable(QString("%1 ms").arg(timer.elapsed())));
        QCOMPARE(std::count(set[0].candidate.begin(), set[0].candidate.end(), ' '),
                 std::ptrdiff_t(kMaxMetricTokens - 1));
        QCOMPARE(set[0].references[1], std::string("a cat on a mat"));
        QCOMPARE(set[1].candidate, std::string("a dog runs"));
        QCOMPARE(metrics[4].name, std::string("ROUGE_L"));
        QCOMPARE(metrics[4].perImage[0], 1.0); // the cut caption against the cut reference
        QVERIFY(QString::fromStdString(capWarning(2)).startsWith("2 caption(s) longer than 1024"));
    }

    void readerErrorsNameTheProblem_data() {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("expected");
        QTest::newRow("not json") << "{"
                                  << "not valid JSON";
        QTest::newRow("no refs") << R"({"cands": {}})"
                                 << "\"refs\"";
        QTest::newRow("refs not a list") << R"({"refs": {"1": "a"}, "cands": {"1": "a"}})"
                                         << "refs[\"1\"] must be a non-empty list";
        QTest::newRow("missing candidate") << R"({"refs": {"1": ["a"]}, "cands": {}})"
                                           << "no caption for image \"1\"";
        QTest::newRow("two candidates") << R"({"refs": {"1": ["a"]}, "cands": {"1": ["a", "b"]}})"
                                        << "must be one caption";
        QTest::newRow("stray candidate")
            << R"({"refs": {"1": ["a"]}, "cands": {"1": "a", "2": "b"}})"
            << "refs lacks";
    }

    void readerErrorsNameTheProblem() {
        QFETCH(QString, json);
        QFETCH(QString, expected);
        auto set = parseEvalSetJson(json.toStdString(), "set.json");
        QVERIFY(!set.ok());
        QVERIFY2(QString::fromStdString(set.error()).contains(expected), set.error().c_str());
    }
};

QTEST_GUILESS_MAIN(TestMetrics)
#include "test_metrics.moc"
