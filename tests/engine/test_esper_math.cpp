// ESPER's PPO arithmetic against values computed by hand from the official formulas
// (lightning.py, utils/utils.py, loss/repetition.py): each check fails if a formula drifts,
// e.g. whitening by the deviation instead of its square root, or the KL softmax over the
// vocabulary instead of the time axis.
#include "training/esper/esper_config.h"
#include "training/esper/ppo_math.h"
#include "training/esper/queries.h"

#include <ATen/ATen.h>

#include "test_support.h"

using namespace esper;

namespace {

at::Tensor row(std::vector<float> v) {
    return at::tensor(v).unsqueeze(0);
}

void near(const at::Tensor& got, std::vector<double> want, double tolerance = 1e-5) {
    const at::Tensor flat = got.reshape({-1}).to(at::kDouble);
    QCOMPARE(flat.numel(), int64_t(want.size()));
    for (size_t i = 0; i < want.size(); ++i) {
        const double g = flat[int64_t(i)].item<double>();
        QVERIFY2(std::abs(g - want[i]) < tolerance,
                 qPrintable(QString("entry %1: %2, want %3").arg(i).arg(g).arg(want[i])));
    }
}

} // namespace

class TestEsperMath : public QObject {
    Q_OBJECT

private slots:
    void whiteningDividesBySqrtOfTheDeviationAsTheOfficialCode() {
        const at::Tensor x = row({1, 2, 3, 4}), ones = at::ones({1, 4});
        // mean 2.5, deviation sqrt(7.5 - 6.25) = 1.118034
        near(ppo::whiten(x, ones, true, true),
             {-1.5 / 1.0573713, -0.5 / 1.0573713, 0.5 / 1.0573713, 1.5 / 1.0573713});
        near(ppo::whiten(x, ones, false, true),
             {2.5 - 1.4186, 2.5 - 0.47287, 2.5 + 0.47287, 2.5 + 1.4186}, 1e-4);
        near(ppo::whiten(x, ones, true, false), {-1.341641, -0.447214, 0.447214, 1.341641});
        // Masked entries take no part in the statistics.
        const at::Tensor masked = ppo::whiten(row({1, 2, 3, 100}), row({1, 1, 1, 0}), true, false);
        near(masked.narrow(1, 0, 3), {-1 / 0.816497, 0, 1 / 0.816497});
    }

    void advantagesFollowTheOfficialLoop() {
        const at::Tensor rewards = row({0, 0, 1}), values = row({0.5, 0.2, 0.1});
        const at::Tensor ones = at::ones({1, 3});
        auto a = ppo::generalisedAdvantages(rewards, values, ones, 1.0, 0.95, true);
        // A2 = 1 - 0.1; A1 = (0 + 0.1 - 0.2) + 0.95·A2; A0 = (0 + 0.2 - 0.5) + 0.95·A1
        near(a.returns, {0.41725 + 0.5, 0.755 + 0.2, 0.9 + 0.1});
        // Whitened with the square root of the deviation: mean 0.69075, deviation 0.2022.
        near(a.advantages, {-0.608152, 0.142866, 0.465287});
    }

    void advantagesWithDiscount() {
        const at::Tensor rewards = row({0, 0, 1}), values = row({0.5, 0.2, 0.1});
        auto a = ppo::generalisedAdvantages(rewards, values, at::ones({1, 3}), 0.9, 0.5, false);
        // δ2 = 0.9, δ1 = 0.9·0.1 - 0.2 = -0.11, δ0 = 0.9·0.2 - 0.5 = -0.32; γλ = 0.45
        near(a.returns, {-0.18725 + 0.5, 0.295 + 0.2, 0.9 + 0.1});
        // Whitened: mean 0 over the row.
        QVERIFY(std::abs(a.advantages.mean().item<double>()) < 1e-6);
    }

    void groupAdvantagesCompareResponsesToOneImage() {
        // Returns 1, 2 (one image) and 3, 0 (another): each less the other's in its group.
        const at::Tensor rewards =
            at::tensor({1.0f, 0.0f, 0.0f, 2.0f, 3.0f, 0.0f, 0.0f, 0.0f}).view({4, 2});
        const at::Tensor mask =
            at::tensor({1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 0.0f, 1.0f, 1.0f}).view({4, 2});
        near(ppo::groupAdvantages(rewards, mask, 2), {-1, -1, 1, 1, 3, 0, -3, -3});
    }

    void supervisedKlIsASoftmaxOverTime() {
        const at::Tensor lp = row({std::log(0.5f), std::log(0.25f)});
        const at::Tensor ref = row({std::log(0.25f), std::log(0.5f)});
        // q = [2/3, 1/3], p = [1/3, 2/3] over the two positions
        near(ppo::timeAxisKl(lp, ref), {-std::log(2.0) / 6, std::log(2.0) / 3});
        near(ppo::supervisedKlLoss(lp, ref, at::ones({1, 2}), 0.1, 2.0).unsqueeze(0),
             {2 * (std::log(2.0) / 3 - 0.1)});
        // A masked position (log-prob at the official -1e5) has no weight in the softmax.
        const at::Tensor padded = ppo::maskPad(row({-1, -2, -3}), row({1, 1, 0}));
        QVERIFY(std::abs(ppo::timeAxisKl(padded, padded).sum().item<double>()) < 1e-9);
    }

    void entropyLossAboveItsThreshold() {
        const at::Tensor lp = at::tensor({-30.0f, -50.0f, -10.0f, -10.0f}).view({2, 2});
        // Row sums of -log π: 80 and 20; only the first is over 70: 0.2·(10 + 0) / 2.
        near(ppo::entropyLoss(lp, at::ones({2, 2}), 70, 0.2).unsqueeze(0), {1.0});
    }

    void fluencyRewardsPerToken() {
        // m = 2 tokens: threshold 4 per response is 2 per token; bias 3 is 1.5 per token.
        near(ppo::fluencyRewards(row({-1, -5}), at::ones({1, 2}), 4, 0.1, 3.0), {1.5, 1.2});
        near(ppo::fluencyRewards(row({-1, -5, -9}), row({1, 1, 0}), 4, 0.1, 3.0), {1.5, 1.2, 0});
    }

    void repetitionPenaltyWrapsAround() {
        QCOMPARE(ppo::repetitionScore({1, 2, 3, 4}), 1.0);   // no repeat: +1 (·0.025)
        QCOMPARE(ppo::repetitionScore({1, 2, 1, 2}), -12.0); // 2 trigrams ·4 + 2 bigrams ·2
        QCOMPARE(ppo::repetitionScore({5, 6, 5}), 0.0);      // one repeated token is allowed
        QCOMPARE(ppo::repetitionScore({}), 1.0);
    }

    void rewardsPutTheGoalOnTheLastToken() {
        const at::Tensor mask = row({1, 1, 0});
        const at::Tensor lp = ppo::maskPad(row({-1, -2, 0}), mask);
        const at::Tensor ref = ppo::maskPad(row({-1.5, -1, 0}), mask);
        near(ppo::tokenRewards(lp, ref, at::zeros({1, 3}), at::tensor({2.0f}), mask, 0.1),
             {-0.05, 0.1 + 2.0, 0});
    }

    void clippedLosses() {
        const at::Tensor ones = at::ones({1, 2});
        auto pg = ppo::clippedPolicyLoss(row({std::log(1.5f), std::log(0.5f)}), at::zeros({1, 2}),
                                         ones, ones, 0.2);
        near(pg.loss.unsqueeze(0), {-0.85});
        QCOMPARE(pg.clipFraction, 0.5);
        auto v = ppo::clippedValueLoss(row({1, 0}), row({0.5, 0.5}), at::zeros({1, 2}), ones, 0.2);
        near(v.loss.unsqueeze(0), {0.2725});
        QCOMPARE(v.clipFraction, 0.5);
        QVERIFY(std::abs(ppo::approxKl(row({0.2f, -0.2f}), at::zeros({1, 2}), ones) - 0.02) < 1e-7);
    }

    void configRefusesUnknownKeysAndWrongTypes() {
        EsperConfig c;
        QVERIFY(applyEsperConfigJson(R"({"kl_coef": 0.05, "reward_gain": null,
                                         "reward_bias": null})",
                                     c, "test")
                    .ok());
        QCOMPARE(c.klCoef, 0.05);
        QVERIFY(!c.rewardGain.has_value());
        auto unknown = applyEsperConfigJson(R"({"kl_coeff": 0.05})", c, "cfg.json");
        QVERIFY(!unknown.ok());
        QVERIFY2(unknown.error().find("unknown setting \"kl_coeff\"") != std::string::npos,
                 unknown.error().c_str());
        auto wrong = applyEsperConfigJson(R"({"batch_size": "big"})", c, "cfg.json");
        QVERIFY(!wrong.ok());
        QVERIFY2(wrong.error().find("\"batch_size\" must be a whole number") != std::string::npos,
                 wrong.error().c_str());
        QCOMPARE(c.batchSize, 128); // a refused file changes nothing
        auto indivisible = applyEsperConfigJson(R"({"minibatches": 5})", c, "cfg.json");
        QVERIFY(!indivisible.ok());
        // Every part of every minibatch must hold rows: 128 / 16 = 8 rows a minibatch.
        QVERIFY(applyEsperConfigJson(R"({"parts": 8})", c, "cfg.json").ok());
        auto tooMany = applyEsperConfigJson(R"({"parts": 9})", c, "cfg.json");
        QVERIFY(!tooMany.ok());
        QVERIFY2(tooMany.error().find("a minibatch's rows") != std::string::npos,
                 tooMany.error().c_str());
        QVERIFY(applyEsperConfigJson(R"({"parts": 2})", c, "cfg.json").ok());
        // What it writes it reads back to the same config.
        EsperConfig back;
        QVERIFY(applyEsperConfigJson(c.json(), back, "written").ok());
        QCOMPARE(back.json(), c.json());
        // The official defaults.
        const EsperConfig official;
        QCOMPARE(official.klCoef, 0.15);
        QCOMPARE(*official.rewardGain, 50.0);
        QCOMPARE(official.batchSize / official.minibatches, 8);
        QCOMPARE(official.referenceUntil(), 50);
        QCOMPARE(official.scheduleIterations(), 78125);
    }

    void sentenceInitialsAreCountedAndDrawnByFrequency() {
        const auto counts = countSentenceInitials(
            "The cat sat on the mat. The dog ran away fast! In the end it slept.\n"
            "= Heading = line\n<unk> was unknown here . Short.\n");
        QCOMPARE(counts.at("The"), 2.0);
        QCOMPARE(counts.at("In"), 1.0);
        QVERIFY(!counts.count("<unk>") && !counts.count("=") && !counts.count("Short."));
        EsperConfig c;
        auto initials = loadSentenceInitials(c); // the built-in English list
        QVERIFY(initials.ok());
        QCOMPARE(initials->words.size(), size_t(301)); // 300 and "The photo describes a"
        QCOMPARE(initials->words.front(), std::string("The"));
        QCOMPARE(initials->words.back(), std::string("The photo describes a"));
    }
};

QTEST_GUILESS_MAIN(TestEsperMath)
#include "test_esper_math.moc"
