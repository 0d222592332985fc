#include "models/causal_lm.h"

#include "models/gpt2.h"
#include "models/llama.h"

#include <ATen/ATen.h>

namespace esper {

std::pair<at::Tensor, at::Tensor> KvCache::append(size_t layer, size_t layers, at::Tensor k,
                                                  at::Tensor v) {
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
        if (!m) return fail(m.error());
        return std::unique_ptr<CausalLm>(std::move(m.value()));
    }
    if (const auto* l = std::get_if<LlamaConfig>(&config)) {
        auto m = LlamaModel::create(*l, w);
        if (!m) return fail(m.error());
        return std::unique_ptr<CausalLm>(std::move(m.value()));
    }
    return fail("a CLIP model is not a language model");
}

Result<std::unique_ptr<CausalLm>> loadCausalLm(const std::string& dir, ComputeOptions options) {
    auto config = readModelConfig(dir);
    if (!config) return fail(config.error());
    auto weights = FileWeights::open(dir + "/model.safetensors", options);
    if (!weights) return fail(weights.error());
    return makeCausalLm(config.value(), *weights.value());
}

at::Tensor greedyContinue(const CausalLm& lm, const LmInput& input, int64_t steps, bool stopAtEos) {
    const auto dev = lm.options().device;
    const int64_t b = input.embeds.size(0);
    const auto longOpts = at::TensorOptions().dtype(at::kLong).device(dev);
    KvCache cache;
    LmInput step = input;
    step.lastLogitsOnly = true;
    at::Tensor positions = positionsOf(input, 0, dev);
    at::Tensor mask =
        input.attentionMask.defined() ? input.attentionMask.to(dev).to(at::kLong) : at::Tensor();
    const auto eos = lm.eosTokenIds();
    at::Tensor finished = at::zeros({b}, longOpts.dtype(at::kBool));
    std::vector<at::Tensor> out;
    for (int64_t s = 0; s < steps; ++s) {
        at::Tensor next = lm.forward(step, &cache).select(1, 0).argmax(-1);
        if (stopAtEos && !eos.empty()) {
            next = at::where(finished, at::full_like(next, eos.front()), next);
            for (int64_t id : eos)
                finished = finished | next.eq(id);
        }
        out.push_back(next);
        const at::Tensor lastPos = positions.select(1, positions.size(1) - 1).unsqueeze(1) + 1;
        positions = lastPos;
        step.embeds = lm.embed(next.unsqueeze(1));
        step.positionIds = lastPos;
        if (mask.defined()) {
            mask = at::cat({mask, at::ones({b, 1}, longOpts)}, 1);
            step.attentionMask = mask;
        }
    }
    return at::stack(out, 1);
}

} // namespace esper
