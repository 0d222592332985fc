#include "training/framework/train_runner.h"

#include "models/device.h"
#include "training/framework/checkpoint.h"
#include "util/file_util.h"
#include "util/json_text.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

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

Result<TrainSummary> summaryOfRun(const Result<TrainRun>& run) {
    ESPER_TRY(run);
    if (run->losses.empty()) return cancelledError("cancelled before the first step");
    return run->summary();
}

double OptimizerSteps::step() {
    // Without clipping the norm is only logged: measured on an iteration's first step, it costs
    // a reduction per parameter once rather than at each of ESPER's 64 steps.
    double norm = NAN;
    if (clipNorm_ > 0 || taken_ == 0) norm = optimizer_.clipGradients(clipNorm_);
    optimizer_.step(rate_);
    ++taken_;
    if (!std::isnan(norm)) {
        normSum_ += norm;
        ++measured_;
    }
    return norm;
}

namespace {

// Keeps the log lines of the steps before `step`.
Result<void> keepLogBefore(const std::string& path, int step) {
    if (!std::filesystem::exists(path)) return {};
    auto text = readTextFile(path);
    ESPER_TRY(text);
    std::istringstream lines(text.value());
    std::string kept;
    for (std::string line; std::getline(lines, line);) {
        const auto json = nlohmann::json::parse(line, nullptr, false);
        if (json.is_object() && json.contains("step") && json["step"].is_number_integer() &&
            json["step"].get<int>() >= step)
            continue;
        kept += line + "\n";
    }
    return writeFileAtomic(path, kept);
}

} // namespace

Result<TrainRun> runIterations(const std::vector<ParamGroup>& groups, const TrainSettings& o,
                               const IterationFn& iteration, const TrainHooks& hooks) {
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    AdamW optimizer(groups, {0.9, 0.999, 1e-8, o.weightDecay});
    TrainProgress progress;
    progress.totalSteps = o.steps;
    progress.rng.seed(o.seed * 7 + 3);
    TrainRun run;
    if (o.resume && !o.checkpointPath.empty() && std::filesystem::exists(o.checkpointPath)) {
        auto restored = loadCheckpoint(o.checkpointPath, optimizer);
        ESPER_TRY(restored);
        if (restored->totalSteps != o.steps)
            return fail("checkpoint '" + o.checkpointPath + "' belongs to a run of " +
                        std::to_string(restored->totalSteps) + " steps, not " +
                        std::to_string(o.steps) + " (the learning-rate schedule depends on it)");
        if (hooks.restoreState)
            if (auto ok = hooks.restoreState(restored->metadata); !ok)
                return fail("checkpoint '" + o.checkpointPath + "': " + ok.error());
        progress = std::move(restored.value());
        run.resumedFrom = progress.step;
    }
    // The log's "seconds" count the whole run's training time, resumed parts included.
    const double secondsBefore = progress.seconds;
    auto checkpoint = [&]() -> Result<void> {
        if (o.checkpointPath.empty() || !o.writes) return {};
        if (hooks.saveState) progress.metadata = hooks.saveState();
        return saveCheckpoint(o.checkpointPath, optimizer, progress);
    };
    // A resumed run appends to the log the interrupted run wrote, less the lines of the steps
    // after its last checkpoint, which are done again.
    const bool logs = o.writes && !o.logPath.empty();
    if (run.resumedFrom && logs) ESPER_TRY(keepLogBefore(o.logPath, run.resumedFrom));
    std::FILE* log = !logs ? nullptr : std::fopen(o.logPath.c_str(), run.resumedFrom ? "a" : "w");
    if (logs && !log)
        return fail("cannot write the training log " + o.logPath + ": " + std::strerror(errno));
    // A log line that cannot be written (a full disk) stops the run: what it says would be lost.
    const auto logFailed = [&] {
        return fail("cannot write the training log " + o.logPath + ": " + std::strerror(errno));
    };
    const int stop = o.stopAfter > 0 ? std::min(o.stopAfter, o.steps) : o.steps;
    auto finish = [&](Result<void> ok) -> Result<TrainRun> {
        if (log && std::fclose(log) != 0 && ok) ok = logFailed();
        ESPER_TRY(ok);
        run.losses = progress.losses;
        run.seconds = std::chrono::duration<double>(Clock::now() - start).count();
        return run;
    };
    while (progress.step < stop) {
        const double before = std::chrono::duration<double>(Clock::now() - start).count();
        bool stopNow =
            (o.cancel && o.cancel->load()) || (o.maxSeconds > 0 && before >= o.maxSeconds);
        if (o.agreeToStop) {
            auto agreed = o.agreeToStop(stopNow);
            if (!agreed) return finish(agreed.failure());
            stopNow = agreed.value();
        }
        if (stopNow) break;
        const int step = progress.step;
        const double rate = scheduledRate(o, step);
        OptimizerSteps steps(optimizer, rate, o.clipNorm);
        auto result = iteration(step, progress.rng, steps);
        if (!result) return finish(result.failure());
        if (hooks.afterIteration) {
            c10::NoGradGuard noGrad;
            hooks.afterIteration();
        }
        const double value = result->loss;
        progress.losses.push_back(value);
        ++progress.step;
        const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
        progress.seconds = secondsBefore + elapsed;
        const int done = progress.step - run.resumedFrom;
        if (o.onProgress) {
            double left = elapsed / done * (stop - progress.step);
            if (o.maxSeconds > 0) left = std::min(left, std::max(0.0, o.maxSeconds - elapsed));
            o.onProgress(progress.step, stop, value, left);
        }
        if (log && (step % o.logEvery == 0 || progress.step == stop)) {
            nlohmann::ordered_json line{{"step", step},
                                        {"loss", value},
                                        {"lr", rate},
                                        {"grad_norm", steps.meanGradientNorm()},
                                        {"seconds", progress.seconds}};
            for (const auto& [name, v] : result->metrics)
                line[name] = std::isfinite(v) ? nlohmann::ordered_json(v) : nullptr;
            if (std::fprintf(log, "%s\n", dumpJson(line).c_str()) < 0 || std::fflush(log) != 0)
                return finish(logFailed());
        }
        if (o.checkpointEvery > 0 && progress.step % o.checkpointEvery == 0 && progress.step < stop)
            if (auto ok = checkpoint(); !ok) return finish(ok);
    }
    return finish(checkpoint());
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
    TrainHooks hooks;
    hooks.afterIteration = afterStep;
    return runIterations(
        {{"all", params}}, o,
        [&](int step, std::mt19937_64& rng, OptimizerSteps& optimizer) -> Result<IterationResult> {
            optimizer.zeroGrad();
            const at::Tensor loss = stepOf(step, rng);
            optimizer.step();
            return IterationResult{loss.item<double>(), {}};
        },
        hooks);
}

} // namespace esper
