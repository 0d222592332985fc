// The caption quality checks on constructed bad captions: each flag fires on the caption made
// to have it, and not on a good caption.
#include "quality/caption_quality.h"

#include "test_support.h"

#include <algorithm>

using namespace esper;

namespace {
bool has(const CaptionQuality& q, QualityFlag f) {
    return std::find(q.flags.begin(), q.flags.end(), f) != q.flags.end();
}
} // namespace

class TestQuality : public QObject {
    Q_OBJECT
private slots:
    void goodCaptionsPass() {
        for (const char* text : {"a picture of a tiny red diamond, a small white block and a small "
                                 "green box",
                                 "A cat sleeps on a wooden chair by the window.",
                                 "Officials confirm a red diamond in the picture"}) {
            const auto q = checkCaption({text, std::nullopt, std::nullopt});
            QVERIFY2(!q.flagged(), q.reasons.empty() ? text : q.reasons[0].c_str());
        }
    }

    void eachFlagFiresOnItsCaption() {
        QVERIFY(has(checkCaption({"a dog and a dog and a dog and a dog", {}, {}}),
                    QualityFlag::Repetition));
        QVERIFY(has(checkCaption({"it is very very very big", {}, {}}), QualityFlag::Repetition));
        QVERIFY(has(checkCaption({"a man riding a horse next to the", {}, {}}),
                    QualityFlag::Unfinished));
        QVERIFY(has(checkCaption({"a man riding a horse,", {}, {}}), QualityFlag::Unfinished));
        // The generator's own word beats the heuristic.
        QVERIFY(has(checkCaption({"a man riding a horse", {}, true}), QualityFlag::Unfinished));
        QVERIFY(has(checkCaption({"", {}, {}}), QualityFlag::TooShort));
        QVERIFY(has(checkCaption({"a cat", {}, {}}), QualityFlag::TooShort));
        QVERIFY(
            has(checkCaption({"news: a cat on the mat today", {}, {}}), QualityFlag::LeakedPrompt));
        QualityOptions own;
        own.prompts = {"Photo:"};
        QVERIFY(
            has(checkCaption({"photo: a cat on the mat", {}, {}}, own), QualityFlag::LeakedPrompt));
        QVERIFY(!has(checkCaption({"news: a cat on the mat today", {}, {}}, own),
                     QualityFlag::LeakedPrompt));
    }

    void datasetChecksCompareCaptionsWithEachOther() {
        std::vector<CaptionToCheck> c;
        for (int i = 0; i < 20; ++i)
            c.push_back({"caption number " + std::to_string(i) + " of a scene with things",
                         2.2 + 0.01 * (i % 5), std::nullopt});
        c[7].clipS = 0.4; // far below the rest
        c[12].text = "a red square above a blue circle on grey";
        c[13].text = "a red square above a blue circle on grey ground"; // like its neighbour
        const auto q = checkCaptions(c);
        QCOMPARE(q.size(), c.size());
        QVERIFY(has(q[7], QualityFlag::LowClipS));
        QVERIFY(has(q[12], QualityFlag::NearDuplicate) && has(q[13], QualityFlag::NearDuplicate));
        int flagged = 0;
        for (const auto& x : q)
            flagged += x.flagged();
        QCOMPARE(flagged, 3);
        // Fewer than 10 scored captions: no distribution to be low against.
        c.resize(5);
        c[3].clipS = 0.1;
        QVERIFY(!has(checkCaptions(c)[3], QualityFlag::LowClipS));
        QCOMPARE(std::string(qualityFlagName(QualityFlag::NearDuplicate)),
                 std::string("near_duplicate"));
    }
};

QTEST_GUILESS_MAIN(TestQuality)
#include "test_quality.moc"
