#include "training/framework/checkpoint.h"

#include "io/safetensors.h"
#include "models/weight_source.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <sstream>

namespace esper {

namespace {
constexpr const char* kFormat = "esper-train-checkpoint-1";
const std::string kMetaPrefix = "meta."; // the trainer's own entries, apart from the runner's

std::string key(const char* kind, size_t i) {
    return std::string(kind) + "." + std::to_string(i);
}
} // namespace

Result<void> saveCheckpoint(const std::string& path, const AdamW& optimizer,
                            const TrainProgress& progress) {
    std::vector<at::Tensor> keep;
    std::vector<TensorBytes> tensors;
    auto add = [&](const std::string& name, const at::Tensor& t) {
        keep.push_back(t.detach().to(at::kCPU, at::kFloat).contiguous());
        tensors.push_back({name, DType::F32, keep.back().sizes().vec(), keep.back().data_ptr()});
    };
    for (size_t i = 0; i < optimizer.params().size(); ++i) {
        add(key("param", i), optimizer.params()[i]);
        add(key("adam_m", i), optimizer.firstMoments()[i]);
        add(key("adam_v", i), optimizer.secondMoments()[i]);
    }
    const at::Tensor losses =
        at::tensor(progress.losses.empty() ? std::vector<double>{0} : progress.losses, at::kDouble);
    tensors.push_back({"losses", DType::F64, {int64_t(progress.losses.size())}, losses.data_ptr()});
    std::ostringstream rng;
    rng << progress.rng;
    std::map<std::string, std::string> meta{
        {"format", kFormat},
        {"step", std::to_string(progress.step)},
        {"total_steps", std::to_string(progress.totalSteps)},
        {"adam_steps", std::to_string(optimizer.steps())},
        {"seconds", std::to_string(progress.seconds)},
        {"parameters", std::to_string(optimizer.params().size())},
        {"rng", rng.str()}};
    for (const auto& [k, v] : progress.metadata)
        meta[kMetaPrefix + k] = v;
    return writeSafetensors(path, tensors, meta);
}

Result<TrainProgress> loadCheckpoint(const std::string& path, AdamW& optimizer) {
    auto file = SafetensorsFile::open(path);
    ESPER_TRY(file);
    const auto& meta = file->metadata();
    auto field = [&](const char* name) -> std::string {
        auto it = meta.find(name);
        return it == meta.end() ? std::string() : it->second;
    };
    if (field("format") != kFormat)
        return fail("'" + path + "' is not an ESPER training checkpoint");
    if (field("parameters") != std::to_string(optimizer.params().size()))
        return fail("checkpoint '" + path + "' holds " + field("parameters") +
                    " parameters; this training has " + std::to_string(optimizer.params().size()));
    TrainProgress p;
    try {
        p.step = std::stoi(field("step"));
        p.totalSteps = std::stoi(field("total_steps"));
        optimizer.setSteps(std::stoll(field("adam_steps")));
        // Checkpoints written before the field existed count their time as 0.
        if (const auto s = field("seconds"); !s.empty()) p.seconds = std::stod(s);
    } catch (const std::exception&) {
        return fail("checkpoint '" + path + "' has a malformed step count");
    }
    for (const auto& [k, v] : meta)
        if (k.rfind(kMetaPrefix, 0) == 0) p.metadata[k.substr(kMetaPrefix.size())] = v;
    std::istringstream rng(field("rng"));
    rng >> p.rng;
    if (rng.fail()) return fail("checkpoint '" + path + "' has a malformed random state");
    // Everything is read and checked before anything is overwritten.
    std::vector<std::pair<at::Tensor, at::Tensor>> copies;
    auto stage = [&](const std::string& name, const at::Tensor& into) -> Result<void> {
        const TensorInfo* info = file->find(name);
        if (!info) return fail("checkpoint '" + path + "' lacks '" + name + "'");
        at::Tensor value = tensorFromFile(file.value(), *info);
        if (value.sizes() != into.sizes())
            return fail("checkpoint '" + path + "': '" + name +
                        "' has another shape than the "
                        "model being trained");
        copies.emplace_back(into, std::move(value));
        return {};
    };
    for (size_t i = 0; i < optimizer.params().size(); ++i) {
        ESPER_TRY(stage(key("param", i), optimizer.params()[i]));
        ESPER_TRY(stage(key("adam_m", i), optimizer.firstMoments()[i]));
        ESPER_TRY(stage(key("adam_v", i), optimizer.secondMoments()[i]));
    }
    if (const TensorInfo* info = file->find("losses")) {
        const at::Tensor l = tensorFromFile(file.value(), *info).to(at::kDouble).contiguous();
        p.losses.assign(l.data_ptr<double>(), l.data_ptr<double>() + l.numel());
    }
    c10::NoGradGuard noGrad;
    for (auto& [into, value] : copies)
        into.copy_(value.to(into.device(), into.scalar_type()));
    return p;
}

} // namespace esper
