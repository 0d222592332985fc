#include "models/causal_lm.h"

#include "models/gpt2.h"
#include "models/llama.h"

#include <ATen/ATen.h>

namespace esper {

std::pair<at::Tensor, at::Tensor> KvCache::append(size_t layer, size_t layers, at::Tensor k,
                                                  at::Tensor v) {
    if (slot.defined()) {
        keys[layer].index_copy_(2, slot, k);
        values[layer].index_copy_(2, slot, v);
        return {keys[layer], values[layer]};
    }
    if (keys.size() != layers) {
        keys.assign(layers, {});
        values.assign(layers, {});
    }
    if (keys[layer].defined()) {
        k = at::cat({keys[layer], k}, 2);
        v = at::cat({values[layer], v}, 2);
    }
    keys[layer] = k;
    values[layer] = v;
    return {k, v};
}

KvCache KvCache::fixedShape(int64_t capacity) const {
    KvCache fixed;
    for (size_t l = 0; l < keys.size(); ++l) {
        auto room = [capacity](const at::Tensor& t) {
            auto shape = t.sizes().vec();
            shape[2] = capacity;
            return at::zeros(shape, t.options());
        };
        fixed.keys.push_back(room(keys[l]));
        fixed.values.push_back(room(values[l]));
    }
    const auto device = keys.empty() ? c10::Device(c10::kCPU) : keys[0].device();
    fixed.slot = at::zeros({1}, at::TensorOptions().dtype(at::kLong).device(device));
    fixed.refill(*this);
    return fixed;
}

void KvCache::refill(const KvCache& from) {
    const int64_t filled = from.length();
    for (size_t l = 0; l < keys.size(); ++l) {
        for (auto [into, source] :
             {std::pair{&keys[l], &from.keys[l]}, std::pair{&values[l], &from.values[l]}}) {
            into->zero_();
            into->narrow(2, 0, filled).copy_(*source);
        }
    }
    slot.fill_(filled);
}

at::Tensor positionsOf(const LmInput& in, int64_t past, c10::Device device) {
    if (in.positionIds.defined()) return in.positionIds.to(device);
    const int64_t b = in.embeds.size(0), t = in.embeds.size(1);
    return at::arange(past, past + t, at::TensorOptions().dtype(at::kLong).device(device))
        .unsqueeze(0)
        .expand({b, t});
}

Result<std::unique_ptr<CausalLm>> makeCausalLm(const ModelConfig& config, WeightSource& w) {
    if (const auto* g = std::get_if<Gpt2Config>(&config)) {
        auto m = Gpt2Model::create(*g, w);
        ESPER_TRY(m);
        return std::unique_ptr<CausalLm>(std::move(m.value()));
    }
    if (const auto* l = std::get_if<LlamaConfig>(&config)) {
        auto m = LlamaModel::create(*l, w);
        ESPER_TRY(m);
        return std::unique_ptr<CausalLm>(std::move(m.value()));
    }
    return fail("a CLIP model is not a language model");
}

Result<std::unique_ptr<CausalLm>> loadCausalLm(const std::string& dir, ComputeOptions options) {
    auto config = readModelConfig(dir);
    ESPER_TRY(config);
    auto weights = FileWeights::open(dir + "/model.safetensors", options);
    ESPER_TRY(weights);
    return makeCausalLm(config.value(), *weights.value());
}

} // namespace esper
