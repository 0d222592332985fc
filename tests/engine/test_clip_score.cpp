// CLIP-S / RefCLIP-S: the scorer on the tiny reference CLIP with its tokenizer, the embedding
// cache, batching that does not change results, and dataset-level scoring.
#include "test_images.h"
#include "test_support.h"

#include "evaluation/dataset_eval.h"
#include "scoring/clip_scorer.h"
#include "scoring/dataset_clip_score.h"

#include <cmath>

using namespace esper;

namespace {

using esper::test::patternImage;

} // namespace

class TestClipScore : public QObject {
    Q_OBJECT

    std::unique_ptr<ClipScorer> scorer_;

private slots:
    void initTestCase() {
        auto s = ClipScorer::load((esper::test::referenceDir() + "/models/clip-tiny").toStdString(),
                                  (esper::test::dataDir() + "/tokenizers/clip-tiny").toStdString());
        ESPER_VERIFY_OK(s);
        scorer_ = std::move(s.value());
        QCOMPARE(scorer_->embeddingSize(), int64_t(32));
    }

    void rejectsAMismatchedTokenizer() {
        auto s = ClipScorer::load((esper::test::referenceDir() + "/models/clip-tiny").toStdString(),
                                  (esper::test::dataDir() + "/tokenizers/gpt2-tiny").toStdString());
        QVERIFY(!s.ok());
        QVERIFY2(QString::fromStdString(s.error()).contains("startoftext"), s.error().c_str());
    }

    void batchingDoesNotChangeEmbeddings() {
        const std::vector<std::string> texts = {"a dog", "a man riding a wave on a surfboard",
                                                "caption: two cats sleeping on a sofa"};
        auto together = scorer_->embedTexts(texts);
        QVERIFY(together.ok());
        for (size_t i = 0; i < texts.size(); ++i) {
            auto alone = scorer_->embedTexts({texts[i]});
            QVERIFY(alone.ok());
            for (size_t k = 0; k < alone.value()[0].size(); ++k)
                QVERIFY(std::abs(alone.value()[0][k] - together.value()[i][k]) < 1e-5f);
            QVERIFY(std::abs(ClipScorer::cosine(together.value()[i], together.value()[i]) - 1) <
                    1e-5);
        }
        const RgbImage a = patternImage(40, 30, 1), b = patternImage(25, 50, 2);
        auto both = scorer_->embedImages({&a, &b});
        auto one = scorer_->embedImages({&b});
        QVERIFY(both.ok() && one.ok());
        for (size_t k = 0; k < one.value()[0].size(); ++k)
            QVERIFY(std::abs(one.value()[0][k] - both.value()[1][k]) < 1e-5f);
    }

    void cachesImageEmbeddingsByKey() {
        const RgbImage a = patternImage(33, 33, 3);
        const size_t before = scorer_->cacheSize();
        auto first = scorer_->embedImages({&a}, {"a.png@1"});
        QCOMPARE(scorer_->cacheSize(), before + 1);
        QVERIFY(scorer_->hasCachedImage("a.png@1"));
        // A different image under the same key is served from the cache: the key is the identity.
        const RgbImage other = patternImage(33, 33, 4);
        auto second = scorer_->embedImages({&other}, {"a.png@1"});
        QVERIFY(first.ok() && second.ok());
        QCOMPARE(first.value()[0], second.value()[0]);
        QCOMPARE(scorer_->cacheSize(), before + 1);
    }

    void scoreFormulas() {
        const auto s = ClipScorer::combine(0.3, 0.6);
        QCOMPARE(s.clipS, 0.75);
        QVERIFY(std::abs(*s.refClipS - 2 * 0.75 * 0.6 / (0.75 + 0.6)) < 1e-15);
        QCOMPARE(ClipScorer::combine(-0.2, std::nullopt).clipS, 0.0);
        QVERIFY(!ClipScorer::combine(0.1, std::nullopt).refClipS);
    }

    void scoresADataset() {
        const EvalSet set{{"1", {"a red bus", "a bus on the street"}, "a red bus driving"},
                          {"2", {"two dogs"}, "a dog playing"},
                          {"3", {"a cat"}, "a cat"}};
        const std::vector<std::string> paths = {"one", "two", "missing"};
        ImageLoader load = [](const std::string& p) -> Result<RgbImage> {
            if (p == "missing") return fail("'missing' does not exist");
            return patternImage(30 + int(p.size()), 28, int(p.size()));
        };
        auto r = scoreDataset(*scorer_, set, paths, load, false, 2);
        ESPER_VERIFY_OK(r);
        QCOMPARE(r->failedImages, size_t(1));
        QVERIFY(r->firstError.find("missing") != std::string::npos);
        QCOMPARE(r->clipS.perImage.size(), size_t(3));
        QVERIFY(std::isnan(r->clipS.perImage[2]));
        // Each value is the formula over the scorer's own embeddings.
        for (size_t i = 0; i < 2; ++i) {
            const RgbImage img = load(paths[i]).value();
            const auto ie = scorer_->embedImages({&img}).value()[0];
            const auto te = scorer_->embedTexts({set[i].candidate}).value()[0];
            const auto refs = scorer_->embedTexts(set[i].references).value();
            double best = -2;
            for (const auto& re : refs)
                best = std::max(best, ClipScorer::cosine(te, re));
            const auto want = ClipScorer::combine(ClipScorer::cosine(ie, te), best);
            QVERIFY(std::abs(r->clipS.perImage[i] - want.clipS) < 1e-6);
            QVERIFY(std::abs(r->refClipS.perImage[i] - *want.refClipS) < 1e-6);
        }
        QVERIFY(std::abs(r->clipS.corpus - (r->clipS.perImage[0] + r->clipS.perImage[1]) / 2) <
                1e-12);
        auto prefixed = scoreDataset(*scorer_, set, paths, load, true, 2);
        QVERIFY(prefixed.ok());
        QVERIFY(prefixed->clipS.perImage[0] != r->clipS.perImage[0]);
    }

    void evalAddsClipColumns() {
        CaptionDataset refs, cands;
        refs.records = {{"1", "one", "", {{"", {"a red bus"}}}, {}}};
        cands.records = {{"1", "", "", {}, {{"", "a red bus"}}}};
        refs.index["1"] = 0;
        cands.index["1"] = 0;
        EvalOptions options;
        options.clip = scorer_.get();
        options.loadImage = [](const std::string&) -> Result<RgbImage> {
            return patternImage(30, 30, 9);
        };
        auto e = evaluateDatasets(refs, cands, options);
        ESPER_VERIFY_OK(e);
        std::vector<std::string> names;
        for (const auto& m : e->styles[0].metrics)
            names.push_back(m.name);
        QVERIFY(std::find(names.begin(), names.end(), "CLIP-S") != names.end());
        QVERIFY(std::find(names.begin(), names.end(), "RefCLIP-S") != names.end());
    }
};

QTEST_GUILESS_MAIN(TestClipScore)
#include "test_clip_score.moc"
