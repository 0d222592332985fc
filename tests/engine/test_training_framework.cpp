// core/training/framework: the optimizer every trainer uses, its checkpoints, the runner, teacher
// forcing and the sharded step. AdamW must compute what LibTorch's AdamW computes, a run stopped
// and resumed from its checkpoint must end exactly where an uninterrupted run ends, and a step
// in shards must not depend on its threads, nor fault in fresh pages for activations it freed a
// step ago.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/optim/adamw.h>

#include "test_support.h"

#include "io/safetensors.h"
#include "models/clip.h"
#include "models/device.h"
#include "models/runtime.h"
#include "training/framework/adamw.h"
#include "training/framework/checkpoint.h"
#include "training/framework/sharded_gradients.h"
#include "training/framework/teacher_forcing.h"
#include "training/framework/train_runner.h"
#include "training/framework/trainable_weights.h"
#include "util/file_util.h"

#include <QFile>
#include <QTemporaryDir>
#include <atomic>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <sys/resource.h>

using namespace esper;

namespace {
// A small regression problem: the loss depends on the batch the step's random state draws.
struct Problem {
    at::Tensor w = at::zeros({4, 3}).requires_grad_(true);
    at::Tensor b = at::zeros({3}).requires_grad_(true);
    at::Tensor truth = at::arange(12, at::kFloat).reshape({4, 3}) / 10;
    at::Tensor loss(std::mt19937_64& rng) const {
        at::Tensor x = at::empty({8, 4});
        for (int64_t i = 0; i < x.numel(); ++i)
            x.view(-1)[i] = double(rng() % 1000) / 500.0 - 1.0;
        return (at::matmul(x, w) + b - at::matmul(x, truth)).pow(2).mean();
    }
    std::vector<at::Tensor> params() const { return {w, b}; }
};

TrainSettings settings(int steps) {
    TrainSettings t;
    t.steps = steps;
    t.learningRate = 0.05;
    t.warmupSteps = 3;
    t.seed = 11;
    return t;
}
} // namespace

class TestTrainingFramework : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;

private slots:
    // A CLIP made of trainable weights keeps LibTorch's tensors and products, whatever the CPU
    // kernels would hold for inference: a loss reaches every weight of both towers. And its
    // features under InferenceMode (where attention and QuickGELU run in the kernels) agree with
    // those under a gradient pass.
    void trainableClipKeepsItsGradients() {
        ClipConfig c;
        c.text = {32, 64, 2, 2, 1e-5, Activation::QuickGelu};
        c.vision = {48, 96, 2, 4, 1e-5, Activation::QuickGelu};
        c.vocabSize = 40;
        c.maxPositions = 8;
        c.eosTokenId = 39;
        c.imageSize = 32;
        c.patchSize = 8;
        c.projectionDim = 16;
        TrainableWeights w({}, 5);
        auto clip = ClipModel::create(c, w);
        ESPER_VERIFY_OK(clip);
        const at::Tensor pixels = at::randn({2, 3, 32, 32});
        at::Tensor ids = at::randint(0, 39, {2, 6}, at::kLong);
        ids.select(1, 5).fill_(39); // pooled at the end-of-text, which sees every token
        const at::Tensor image = clip.value()->encodeImage(pixels).features;
        const at::Tensor text = clip.value()->encodeText(ids).features;
        (image.sum() + text.sum()).backward();
        for (const auto& [name, tensor] : w.named()) {
            if (name.find("encoder.layers.") == std::string::npos &&
                name.find("patch_embedding") == std::string::npos)
                continue;
            QVERIFY2(tensor.grad().defined(), name.c_str());
            // A key's bias moves all of a query's scores alike, which softmax ignores.
            if (name.find("k_proj.bias") == std::string::npos)
                QVERIFY2(tensor.grad().abs().sum().item<double>() > 0, name.c_str());
        }
        c10::InferenceMode inference;
        QVERIFY(
            at::allclose(clip.value()->encodeImage(pixels).features, image.detach(), 1e-5, 1e-5));
        QVERIFY(at::allclose(clip.value()->encodeText(ids).features, text.detach(), 1e-5, 1e-5));
    }

    // The mapper and the LM's summarised documents are taught through these labels: an
    // off-by-one would teach each position the token after next.
    void prefixedRowsScoreEachTokenFromThePositionBeforeIt() {
        const auto b = prefixedRows({{5, 6, 7}, {8, 9}}, {1, 0}, 2, 3);
        QCOMPARE(b.ids.sizes().vec(), (std::vector<int64_t>{2, 3}));
        QCOMPARE(b.labels.sizes().vec(), (std::vector<int64_t>{2, 5}));
        const std::vector<int64_t> ids(b.ids.data_ptr<int64_t>(), b.ids.data_ptr<int64_t>() + 6);
        QCOMPARE(ids, (std::vector<int64_t>{5, 6, 7, 8, 9, 3})); // padded with 3
        const std::vector<int64_t> labels(b.labels.data_ptr<int64_t>(),
                                          b.labels.data_ptr<int64_t>() + 10);
        // Row 0 scores from its token 1 (its prompt is token 0), row 1 from its first token,
        // which the prefix's last position (1) predicts.
        QCOMPARE(labels, (std::vector<int64_t>{-100, -100, 6, 7, -100, //
                                               -100, 8, 9, -100, -100}));
        // The loss reads only the scored positions: logits that put every position's mass on
        // its label give (nearly) zero, whatever the unscored positions hold.
        at::Tensor logits = at::zeros({2, 5, 10});
        for (int64_t i = 0; i < 2; ++i)
            for (int64_t t = 0; t < 5; ++t) {
                const int64_t label = b.labels[i][t].item<int64_t>();
                logits[i][t][label >= 0 ? label : 0] = 50.0;
            }
        QVERIFY(nextTokenLoss(logits, b.labels).item<double>() < 1e-6);
        logits[0][2][6] = 0.0;
        QVERIFY(nextTokenLoss(logits, b.labels).item<double>() > 0.1);
    }

    void adamwMatchesLibTorch() {
        at::manual_seed(3);
        const at::Tensor start = at::randn({5, 7});
        at::Tensor ours = start.clone().requires_grad_(true);
        at::Tensor theirs = start.clone().requires_grad_(true);
        AdamW mine({ours}, {0.9, 0.999, 1e-8, 0.1});
        torch::optim::AdamW reference({theirs}, torch::optim::AdamWOptions(1e-2).weight_decay(0.1));
        for (int step = 0; step < 20; ++step) {
            const at::Tensor target = at::randn({5, 7});
            for (auto* p : {&ours, &theirs})
                if (p->grad().defined()) p->mutable_grad().zero_();
            (ours - target).pow(3).sum().backward();
            (theirs - target).pow(3).sum().backward();
            mine.step(1e-2);
            reference.step();
        }
        const double diff = (ours - theirs).abs().max().item<double>();
        qInfo("AdamW vs LibTorch after 20 steps: max |diff| %.3g", diff);
        QVERIFY(diff < 1e-6);
        QCOMPARE(mine.steps(), int64_t(20));
    }

    void resumedRunEndsWhereAStraightRunEnds() {
        Problem straight;
        auto s = settings(12);
        auto full = runTraining(straight.params(), s,
                                [&](int, std::mt19937_64& rng) { return straight.loss(rng); });
        QVERIFY(full.ok());

        Problem resumed;
        auto first = settings(12);
        first.checkpointPath = (tmp_.path() + "/run.safetensors").toStdString();
        first.checkpointEvery = 100; // only the one written on cancel
        std::atomic<bool> cancel{false};
        first.cancel = &cancel;
        first.onProgress = [&](int step, int, double, double) { cancel = step == 5; };
        auto part = runTraining(resumed.params(), first,
                                [&](int, std::mt19937_64& rng) { return resumed.loss(rng); });
        QVERIFY(part.ok());
        QCOMPARE(part->losses.size(), size_t(5));

        Problem fresh; // a new process: parameters start over, the checkpoint restores them
        auto second = settings(12);
        second.checkpointPath = first.checkpointPath;
        second.resume = true;
        auto rest = runTraining(fresh.params(), second,
                                [&](int, std::mt19937_64& rng) { return fresh.loss(rng); });
        ESPER_VERIFY_OK(rest);
        QCOMPARE(rest->resumedFrom, 5);
        QCOMPARE(rest->losses, full->losses);
        QVERIFY(at::equal(fresh.w, straight.w));
        QVERIFY(at::equal(fresh.b, straight.b));
    }

    // ESPER's iterations take several optimizer steps, on two parameter groups that learn at
    // different rates, and keep state of their own (its reward calibration) in the checkpoint:
    // a run stopped and resumed must still end exactly where a straight run ends.
    void iterationsOfSeveralStepsResumeWithTheirOwnState() {
        auto train = [&](Problem& p, const TrainSettings& s, double& state) {
            TrainHooks hooks;
            hooks.saveState = [&] {
                return std::map<std::string, std::string>{{"state", std::to_string(state)}};
            };
            hooks.restoreState = [&](const std::map<std::string, std::string>& m) -> Result<void> {
                if (!m.count("state")) return fail("no state");
                state = std::stod(m.at("state"));
                return {};
            };
            return runIterations(
                {{"weights", {p.w}}, {"bias", {p.b}, 0.1, 0.0}}, s,
                [&](int, std::mt19937_64& rng, OptimizerSteps& opt) -> Result<IterationResult> {
                    double last = 0;
                    for (int k = 0; k < 3; ++k) {
                        opt.zeroGrad();
                        at::Tensor loss = p.loss(rng) * state;
                        loss.backward();
                        opt.step();
                        last = loss.item<double>();
                    }
                    state += 0.25; // the trainer's own state moves with the run
                    return IterationResult{last, {{"steps", double(opt.taken())}}};
                },
                hooks);
        };
        Problem straight;
        double straightState = 1.0;
        auto full = train(straight, settings(8), straightState);
        QVERIFY(full.ok());

        Problem resumed;
        double resumedState = 1.0;
        auto first = settings(8);
        first.checkpointPath = (tmp_.path() + "/iterations.safetensors").toStdString();
        first.logPath = (tmp_.path() + "/iterations.jsonl").toStdString();
        first.logEvery = 1;
        first.stopAfter = 3;
        QVERIFY(train(resumed, first, resumedState).ok());
        QCOMPARE(resumedState, 1.75);
        // A run killed two iterations after its last checkpoint: its log has lines the resumed
        // run will write again.
        const QString checkpointPath = QString::fromStdString(first.checkpointPath);
        QVERIFY(QFile::copy(checkpointPath, checkpointPath + ".at3"));
        auto killed = first;
        killed.stopAfter = 5;
        killed.resume = true;
        double killedState = 1.0;
        QVERIFY(train(resumed, killed, killedState).ok());
        QVERIFY(QFile::remove(checkpointPath) &&
                QFile::rename(checkpointPath + ".at3", checkpointPath));

        Problem fresh;
        double freshState = 1.0; // a new process: the checkpoint restores it
        auto second = first;
        second.stopAfter = 0;
        second.resume = true;
        auto rest = train(fresh, second, freshState);
        ESPER_VERIFY_OK(rest);
        QCOMPARE(rest->resumedFrom, 3);
        QCOMPARE(rest->losses, full->losses);
        QCOMPARE(freshState, straightState);
        QVERIFY(at::equal(fresh.w, straight.w));
        QVERIFY(at::equal(fresh.b, straight.b));
        // The log has one line per iteration with the iteration's metrics, none twice.
        auto log = readTextFile(first.logPath);
        QVERIFY(log.ok());
        QCOMPARE(int(std::count(log->begin(), log->end(), '\n')), 8);
        QVERIFY(log->find("\"steps\":3.0") != std::string::npos);
        // Its times go on from the interrupted run's: never backwards across the resume.
        double lastSeconds = -1;
        std::istringstream lines(log.value());
        for (std::string line; std::getline(lines, line);) {
            const double seconds = nlohmann::json::parse(line)["seconds"].get<double>();
            QVERIFY(seconds >= lastSeconds);
            lastSeconds = seconds;
        }
        // The groups' rates: the bias group learnt at a tenth of the weights' rate.
        Problem groups;
        double one = 1.0;
        auto single = settings(1);
        single.warmupSteps = 0;
        QVERIFY(train(groups, single, one).ok());
        QVERIFY(groups.w.abs().max().item<double>() > 0.1);  // 3 steps of about 0.05
        QVERIFY(groups.b.abs().max().item<double>() < 0.02); // 3 steps of about 0.005
    }

    // CLIP's steps run in two shards, on two threads when a core is free: the gradients must be
    // the whole batch's, and the same to the bit whether the shards ran at once or in turn.
    void shardedStepsGiveOneResultOnAnyThreads() {
        at::manual_seed(3);
        const at::Tensor x = at::randn({64, 32}), target = at::randn({64, 8});
        auto train = [&](std::optional<bool> parallel) {
            at::manual_seed(4);
            std::vector<at::Tensor> params{at::randn({32, 16}).requires_grad_(true),
                                           at::randn({16, 8}).requires_grad_(true),
                                           at::zeros({1}).requires_grad_(true)};
            auto predict = [&](const at::Tensor& rows) {
                return at::matmul(at::tanh(at::matmul(rows, params[0])), params[1]);
            };
            // The last parameter is used by the loss alone, as CLIP's temperature is.
            auto lossOf = [&](const at::Tensor& prediction) {
                return (prediction * params[2].exp() - target).pow(2).mean();
            };
            ShardedGradients gradients(params);
            AdamW optimizer(params, {});
            std::vector<double> losses;
            for (int step = 0; step < 5; ++step) {
                optimizer.zeroGrad();
                at::Tensor loss;
                if (parallel) {
                    ShardedStep sharded;
                    sharded.parallel = *parallel;
                    sharded.forward = [&](int shard) {
                        return std::vector<at::Tensor>{
                            predict(x.slice(0, shard * 32, shard * 32 + 32))};
                    };
                    sharded.loss = [&](const std::vector<std::vector<at::Tensor>>& out) {
                        return lossOf(at::cat({out[0][0], out[1][0]}));
                    };
                    loss = gradients.step(sharded);
                } else { // the whole batch at once, the plain way
                    loss = lossOf(predict(x));
                    loss.backward();
                }
                losses.push_back(loss.item<double>());
                optimizer.step(0.01);
            }
            return std::make_pair(params, losses);
        };
        const auto [together, togetherLosses] = train(true);
        const auto [inTurn, inTurnLosses] = train(false);
        const auto [whole, wholeLosses] = train(std::nullopt);
        QCOMPARE(togetherLosses, inTurnLosses);
        for (size_t i = 0; i < whole.size(); ++i) {
            QVERIFY(at::equal(together[i], inTurn[i]));
            QVERIFY(at::allclose(together[i], whole[i], 1e-5, 1e-6));
        }
        QVERIFY(std::abs(togetherLosses.back() - wholeLosses.back()) < 1e-5);
        QVERIFY(togetherLosses.back() < togetherLosses.front());

        // An error in the helper's shard reaches the caller, and the helper serves on.
        std::vector<at::Tensor> params{at::ones({32, 8}).requires_grad_(true)};
        ShardedGradients gradients(params);
        ShardedStep failing;
        failing.forward = [&](int shard) {
            if (shard == 0) throw std::runtime_error("shard 0 failed");
            return std::vector<at::Tensor>{at::matmul(x.slice(0, 32), params[0])};
        };
        failing.loss = [](const auto& out) { return out[1][0].sum(); };
        QVERIFY_EXCEPTION_THROWN(gradients.step(failing), std::runtime_error);
        ShardedStep fine = failing;
        fine.forward = [&](int shard) {
            return std::vector<at::Tensor>{
                at::matmul(x.slice(0, shard * 32, shard * 32 + 32), params[0])};
        };
        fine.loss = [](const auto& out) { return out[0][0].sum() + out[1][0].sum(); };
        gradients.step(fine);
        QVERIFY(at::allclose(params[0].grad(), x.sum(0).unsqueeze(1).expand({32, 8})));
    }

    // Every step allocates and frees the same activations. Handed back to the kernel, they came
    // back as fresh zero-filled pages each step: 35.8 million page faults in one demo build.
    void trainingStepsReuseFreedMemory() {
#if defined(__SANITIZE_ADDRESS__)
        QSKIP("AddressSanitizer quarantines freed memory, so its reuse cannot be measured here");
#endif
        configureRuntime(); // as every test program does at start-up (runtime_setup.cpp)
        at::manual_seed(5);
        const at::Tensor x = at::randn({4096, 96});
        std::vector<at::Tensor> params{(at::randn({96, 384}) * 0.1).requires_grad_(true),
                                       (at::randn({384, 96}) * 0.1).requires_grad_(true)};
        ShardedGradients gradients(params);
        // each half's hidden layer is 2,048 x 384 floats: 3 MiB
        ShardedStep sharded = rowHalves(4096, [&](size_t from, size_t to) {
            const at::Tensor rows = x.slice(0, int64_t(from), int64_t(to));
            return std::vector<at::Tensor>{
                at::matmul(at::gelu(at::matmul(rows, params[0])), params[1])};
        });
        sharded.loss = [&](const auto& out) {
            return (at::cat({out[0][0], out[1][0]}) - x).pow(2).mean();
        };
        auto faults = [] {
            rusage usage{};
            getrusage(RUSAGE_SELF, &usage);
            return usage.ru_minflt;
        };
        auto steps = [&](int n) {
            for (int i = 0; i < n; ++i) {
                for (auto& p : params)
                    p.mutable_grad() = at::Tensor();
                gradients.step(sharded);
            }
        };
        steps(3); // the first steps may grow the heaps
        const auto before = faults();
        steps(10);
        const double perStep = double(faults() - before) / 10;
        // Measured: 1,900 faults a step with glibc's defaults, 160 with configureRuntime's.
        QVERIFY2(perStep < 600, qPrintable(QString("%1 page faults a step").arg(perStep)));
    }

    void checkpointOfAnotherRunIsRefused() {
        Problem p;
        auto t = settings(4);
        t.checkpointPath = (tmp_.path() + "/other.safetensors").toStdString();
        QVERIFY(
            runTraining(p.params(), t, [&](int, std::mt19937_64& r) { return p.loss(r); }).ok());
        // Another schedule length.
        auto longer = settings(9);
        longer.checkpointPath = t.checkpointPath;
        longer.resume = true;
        auto r =
            runTraining(p.params(), longer, [&](int, std::mt19937_64& g) { return p.loss(g); });
        QVERIFY(!r.ok());
        QVERIFY2(r.error().find("4 steps") != std::string::npos, r.error().c_str());
        // Other parameters: nothing is overwritten.
        at::Tensor lone = at::ones({2, 2}).requires_grad_(true);
        AdamW other({lone}, {});
        auto loaded = loadCheckpoint(t.checkpointPath, other);
        QVERIFY(!loaded.ok());
        QVERIFY2(loaded.error().find("parameters") != std::string::npos, loaded.error().c_str());
        QVERIFY(at::equal(lone, at::ones({2, 2})));
        // Not a checkpoint at all.
        const std::string model = (tmp_.path() + "/model.safetensors").toStdString();
        QVERIFY(saveCheckpoint(model, other, {}).ok()); // a valid file ...
        QVERIFY(writeSafetensors(model, {}, {}).ok());  // ... replaced by a plain one
        auto plain = loadCheckpoint(model, other);
        QVERIFY(!plain.ok());
        QVERIFY2(plain.error().find("not an ESPER training checkpoint") != std::string::npos,
                 plain.error().c_str());
    }
};

QTEST_GUILESS_MAIN(TestTrainingFramework)
#include "test_training_framework.moc"
