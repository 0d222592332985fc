#include "training/train_runner.h"

#include "models/device.h"
#include "training/adamw.h"
#include "training/checkpoint.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace esper {

double TrainRun::firstLoss() const {
    const size_t n = std::max<size_t>(1, losses.size() / 10);
    double s = 0;
    for (size_t i = 0; i < n && i < losses.size(); ++i)
        s += losses[i];
    return losses.empty() ? 0 : s / double(std::min(n, losses.size()));
}

double TrainRun::lastLoss() const {
    const size_t n = std::max<size_t>(1, losses.size() / 10);
    double s = 0;
    for (size_t i = 0; i < n && i < losses.size(); ++i)
        s += losses[losses.size() - 1 - i];
    return losses.empty() ? 0 : s / double(std::min(n, losses.size()));
}

TrainSummary TrainRun::summary() const {
    return {static_cast<int>(losses.size()), resumedFrom, firstLoss(), lastLoss(), seconds};
}

Result<TrainRun> runTraining(const std::vector<at::Tensor>& params, const TrainSettings& o,
                             const std::function<at::Tensor(int, std::mt19937_64&)>& lossOf,
                             const std::function<void()>& afterStep) {
    return runTrainingSteps(
        params, o,
        [&](int step, std::mt19937_64& rng) {
            at::Tensor loss = lossOf(step, rng);
            loss.backward();
            return loss;
        },
        afterStep);
}

Result<TrainRun> runTrainingSteps(const std::vector<at::Tensor>& params, const TrainSettings& o,
                                  const std::function<at::Tensor(int, std::mt19937_64&)>& stepOf,
                                  const std::function<void()>& afterStep) {
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    configureCpuRuntime(); // one torch thread trains these small models fastest here, as it decodes
    AdamW optimizer(params, {0.9, 0.999, 1e-8, o.weightDecay});
    TrainProgress progress;
    progress.totalSteps = o.steps;
    progress.rng.seed(o.seed * 7 + 3);
    TrainRun run;
    if (o.resume && !o.checkpointPath.empty() && std::filesystem::exists(o.checkpointPath)) {
        auto restored = loadCheckpoint(o.checkpointPath, optimizer);
        if (!restored) return fail(restored.error());
        if (restored->totalSteps != o.steps)
            return fail("checkpoint '" + o.checkpointPath + "' belongs to a run of " +
                        std::to_string(restored->totalSteps) + " steps, not " +
                        std::to_string(o.steps) + " (the learning-rate schedule depends on it)");
        progress = std::move(restored.value());
        run.resumedFrom = progress.step;
    }
    auto checkpoint = [&]() -> Result<void> {
        if (o.checkpointPath.empty()) return {};
        return saveCheckpoint(o.checkpointPath, optimizer, progress);
    };
    // A resumed run appends to the log the interrupted run wrote.
    std::FILE* log =
        o.logPath.empty() ? nullptr : std::fopen(o.logPath.c_str(), run.resumedFrom ? "a" : "w");
    while (progress.step < o.steps) {
        if (o.cancel && o.cancel->load()) break;
        const int step = progress.step;
        const double rate = scheduledRate(o, step);
        optimizer.zeroGrad();
        const at::Tensor loss = stepOf(step, progress.rng);
        double norm = 0;
        for (const auto& p : params)
            if (p.grad().defined()) norm += p.grad().pow(2).sum().item<double>();
        norm = std::sqrt(norm);
        if (o.clipNorm > 0 && norm > o.clipNorm)
            for (auto& p : params)
                if (p.grad().defined()) p.mutable_grad().mul_(o.clipNorm / (norm + 1e-6));
        optimizer.step(rate);
        if (afterStep) {
            c10::NoGradGuard noGrad;
            afterStep();
        }
        const double value = loss.item<double>();
        progress.losses.push_back(value);
        ++progress.step;
        const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
        const int done = progress.step - run.resumedFrom;
        if (o.onProgress)
            o.onProgress(progress.step, o.steps, value, elapsed / done * (o.steps - progress.step));
        if (log && (step % o.logEvery == 0 || progress.step == o.steps)) {
            std::fprintf(log, "%s\n",
                         nlohmann::json{{"step", step},
                                        {"loss", value},
                                        {"lr", rate},
                                        {"grad_norm", norm},
                                        {"seconds", elapsed}}
                             .dump()
                             .c_str());
            std::fflush(log);
        }
        if (o.checkpointEvery > 0 && progress.step % o.checkpointEvery == 0 &&
            progress.step < o.steps)
            if (auto ok = checkpoint(); !ok) {
                if (log) std::fclose(log);
                return fail(ok.error());
            }
    }
    if (log) std::fclose(log);
    if (auto ok = checkpoint(); !ok) return fail(ok.error());
    run.losses = std::move(progress.losses);
    run.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return run;
}

} // namespace esper
