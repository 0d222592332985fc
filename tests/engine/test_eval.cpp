// Dataset evaluation: pairing candidates with references across formats and styles, the ESP
// truncation, split filtering, and the METEOR/SPICE hooks (present or plainly absent).
#include "test_support.h"

#include "evaluation/dataset_eval.h"
#include "metrics/eval_set_json.h"
#include "util/file_util.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

using namespace esper;

namespace {

CaptionDataset dataset(std::vector<CaptionRecord> records) {
    CaptionDataset d;
    d.records = std::move(records);
    for (size_t i = 0; i < d.records.size(); ++i)
        d.index[d.records[i].imageId] = i;
    return d;
}

} // namespace

class TestEval : public QObject {
    Q_OBJECT

private slots:
    void scoresEachStyleAgainstItsReferences() {
        const auto refs = dataset({
            {"1", "img/1.jpg", "", {{"sns", {"so cute dog"}}, {"news", {"Dog seen in park."}}}, {}},
            {"2", "img/2.jpg", "", {{"sns", {"sunny day at the beach"}}}, {}},
        });
        // Candidates as `esper caption` writes them: matched by file name, one per style.
        const auto cands = dataset({
            {"/photos/1.jpg",
             "/photos/1.jpg",
             "",
             {},
             {{"sns", "so cute dog"}, {"news", "A dog."}}},
            {"/photos/2.jpg", "/photos/2.jpg", "", {}, {{"sns", "a day at the beach"}}},
            {"/photos/9.jpg", "/photos/9.jpg", "", {}, {{"sns", "nothing to match"}}},
        });
        auto e = evaluateDatasets(refs, cands, {});
        ESPER_VERIFY_OK(e);
        QCOMPARE(e->unmatchedCandidates, size_t(1));
        QCOMPARE(e->styles.size(), size_t(2));
        const auto& news = e->styles[0];
        QCOMPARE(news.style, std::string("news"));
        QCOMPARE(news.set.size(), size_t(1));
        QCOMPARE(news.set[0].references, (std::vector<std::string>{"dog seen in park"})); // PTB
        const auto& sns = e->styles[1];
        QCOMPARE(sns.set.size(), size_t(2));
        // The numbers are the toolkit's for exactly these pairs.
        const auto direct = computeTextMetrics(sns.set);
        for (size_t m = 0; m < direct.size(); ++m)
            QCOMPARE(sns.metrics[m].corpus, direct[m].corpus);
    }

    void plainReferencesServeEveryStyleAndSplitsFilter() {
        const auto refs = dataset({{"1", "a.jpg", "test", {{"", {"a red bus"}}}, {}},
                                   {"2", "b.jpg", "train", {{"", {"a blue car"}}}, {}}});
        const auto cands = dataset({{"1", "", "", {}, {{"caption", "a red bus"}}},
                                    {"2", "", "", {}, {{"caption", "a blue car"}}}});
        EvalOptions options;
        options.split = "test";
        auto e = evaluateDatasets(refs, cands, options);
        QVERIFY(e.ok());
        QCOMPARE(e->styles.size(), size_t(1));
        QCOMPARE(e->styles[0].set.size(), size_t(1));
        QCOMPARE(e->styles[0].set[0].id, std::string("1"));
        options.split = "val";
        QVERIFY(!evaluateDatasets(refs, cands, options).ok());
    }

    void truncatesReferencesWhenAsked() {
        const auto refs = dataset({{"1", "", "", {{"", {"one two three four five"}}}, {}}});
        const auto cands = dataset({{"1", "", "", {}, {{"", "one two"}}}});
        EvalOptions options;
        options.truncateReference = [](const std::string& s) { return s.substr(0, 7); };
        auto e = evaluateDatasets(refs, cands, options);
        QVERIFY(e.ok());
        QCOMPARE(e->styles[0].set[0].references[0], std::string("one two"));
        QVERIFY(std::abs(e->styles[0].metrics[4].corpus - 1.0) < 1e-12); // ROUGE-L
    }

    void javaMetricsAreAbsentWithAReason() {
        const auto refs = dataset({{"1", "", "", {{"", {"a cat"}}}, {}}});
        const auto cands = dataset({{"1", "", "", {}, {{"", "a cat"}}}});
        EvalOptions options;
        options.meteor = options.spice = true;
        options.java.meteorJar = "/nonexistent/meteor-1.5.jar";
        auto e = evaluateDatasets(refs, cands, options);
        QVERIFY(e.ok());
        QVERIFY(QString::fromStdString(e->styles[0].notComputed.at("METEOR"))
                    .contains("does not exist"));
        QVERIFY(QString::fromStdString(e->styles[0].notComputed.at("SPICE")).contains("no jar"));
        const auto json = QJsonDocument::fromJson(QByteArray::fromStdString(evaluationJson(*e)));
        QVERIFY(json.object()["styles"].toObject()[""].toObject().contains("not_computed"));
        QVERIFY(QString::fromStdString(evaluationTable(*e)).contains("METEOR not computed"));
    }

    void meteorSpeaksTheStdioProtocol() {
        // A stand-in `java` that answers METEOR's protocol (tests/data/fake_java/java).
        QTemporaryDir dir;
        const auto jar = (dir.path() + "/meteor-1.5.jar").toStdString();
        QVERIFY(writeFileAtomic(jar, "not a real jar").ok());
        EvalSet set{{"1", {"a cat", "a small cat"}, "a cat sits"},
                    {"2", {"a dog"}, "a  dog ||| barks"}};
        JavaTools tools{esper::test::dataDir().toStdString() + "/fake_java/java", jar, ""};
        auto r = meteor(set, tools);
        ESPER_VERIFY_OK(r);
        QCOMPARE(r->perImage.size(), size_t(2));
        QCOMPARE(r->perImage[0], 0.2); // two references reached the tool for image 1
        QCOMPARE(r->perImage[1], 0.1);
        QCOMPARE(r->corpus, 0.03);
    }
};

QTEST_GUILESS_MAIN(TestEval)
#include "test_eval.moc"
