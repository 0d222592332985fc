#include "training/train_runner.h"

#include <ATen/ATen.h>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <torch/optim/adamw.h>

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

TrainRun runTraining(const std::vector<at::Tensor>& params, const TrainSettings& o,
                     const std::function<at::Tensor(int, std::mt19937_64&)>& lossOf,
                     const std::function<void()>& afterStep) {
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    torch::optim::AdamW optimizer(
        params, torch::optim::AdamWOptions(o.learningRate).weight_decay(o.weightDecay));
    std::mt19937_64 rng(o.seed * 7 + 3);
    std::FILE* log = o.logPath.empty() ? nullptr : std::fopen(o.logPath.c_str(), "w");
    TrainRun run;
    for (int step = 0; step < o.steps; ++step) {
        if (o.cancel && o.cancel->load()) break;
        const at::Tensor loss = lossOf(step, rng);
        const double rate = scheduledRate(o, step);
        for (auto& group : optimizer.param_groups())
            static_cast<torch::optim::AdamWOptions&>(group.options()).lr(rate);
        optimizer.zero_grad();
        loss.backward();
        double norm = 0;
        for (const auto& p : params)
            if (p.grad().defined()) norm += p.grad().pow(2).sum().item<double>();
        norm = std::sqrt(norm);
        if (o.clipNorm > 0 && norm > o.clipNorm)
            for (auto& p : params)
                if (p.grad().defined()) p.grad().mul_(o.clipNorm / (norm + 1e-6));
        optimizer.step();
        if (afterStep) {
            at::NoGradGuard noGrad;
            afterStep();
        }
        const double value = loss.item<double>();
        run.losses.push_back(value);
        const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
        if (o.onProgress)
            o.onProgress(step + 1, o.steps, value, elapsed / (step + 1) * (o.steps - step - 1));
        if (log && (step % o.logEvery == 0 || step + 1 == o.steps)) {
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
    }
    if (log) std::fclose(log);
    run.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return run;
}

} // namespace esper
