#include "training/framework/trainable_weights.h"

#include "util/file_util.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/GradMode.h>
#include <cmath>

namespace esper {

TrainableWeights::TrainableWeights(ComputeOptions options, uint64_t seed, double initStd)
    : WeightSource(options), generator_(at::detail::createCPUGenerator(seed)), initStd_(initStd) {}

at::Tensor TrainableWeights::fetch(const std::string& name, const std::vector<int64_t>& shape) {
    auto it = params_.find(name);
    if (it != params_.end()) return it->second;
    const auto endsWith = [&](const char* suffix) {
        const std::string s(suffix);
        return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
    };
    at::Tensor t;
    if (name == "logit_scale")
        t = at::full(shape, std::log(1 / 0.07)); // CLIP's initial value
    else if (shape.size() == 1 && endsWith("weight"))
        t = at::ones(shape); // norms
    else if (endsWith("bias"))
        t = at::zeros(shape);
    else
        t = at::randn(shape, generator_) * initStd_;
    t = t.to(options().device, options().dtype).detach().requires_grad_(true);
    params_.emplace(name, t);
    return t;
}

std::vector<at::Tensor> TrainableWeights::parameters() const {
    std::vector<at::Tensor> out;
    for (const auto& [name, t] : params_)
        out.push_back(t);
    return out;
}

Result<void> TrainableWeights::save(const std::string& path,
                                    const std::map<std::string, std::string>& metadata) const {
    std::vector<at::Tensor> keep;
    std::vector<TensorBytes> tensors;
    for (const auto& [name, t] : params_) {
        keep.push_back(t.detach().to(at::kCPU, at::kFloat).contiguous());
        tensors.push_back({name, DType::F32, keep.back().sizes().vec(), keep.back().data_ptr()});
    }
    auto meta = metadata;
    meta.emplace("format", "pt");
    return writeSafetensors(path, tensors, meta);
}

Result<void> TrainableWeights::saveModelFolder(const std::string& dir,
                                               const std::string& configJson,
                                               const std::string& producedBy) const {
    if (auto ok = save(dir + "/model.safetensors", {{"esper", producedBy}}); !ok) return ok;
    return writeFileAtomic(dir + "/config.json", configJson + "\n");
}

Result<void> TrainableWeights::loadValues(const std::string& path) {
    auto file = SafetensorsFile::open(path);
    ESPER_TRY(file);
    c10::NoGradGuard noGrad;
    for (auto& [name, t] : params_) {
        const TensorInfo* info = file->find(name);
        if (!info) return fail("checkpoint '" + path + "' lacks '" + name + "'");
        const at::Tensor value = tensorFromFile(file.value(), *info);
        if (value.sizes() != t.sizes())
            return fail("checkpoint '" + path + "': '" + name + "' has another shape");
        t.copy_(value.to(t.device(), t.scalar_type()));
    }
    return {};
}

} // namespace esper
