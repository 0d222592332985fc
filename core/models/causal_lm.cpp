#include "models/causal_lm.h"

#include "models/gpt2.h"
#include "models/llama.h"

#include <ATen/ATen.h>
#include <algorithm>

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
    if (!keys[layer].defined()) {
        keys[layer] = k;
        values[layer] = v;
        return {k, v};
    }
    if (rooms.size() != layers) rooms.assign(layers, {});
    Room& room = rooms[layer];
    const int64_t length = keys[layer].size(2), wanted = length + k.size(2);
    auto startsRoom = [](const at::Tensor& held, const at::Tensor& whole) {
        return whole.defined() && held.data_ptr() == whole.data_ptr() &&
               held.strides() == whole.strides() && held.size(0) == whole.size(0) &&
               held.size(1) == whole.size(1);
    };
    if (room.filled != length || !startsRoom(keys[layer], room.keys) ||
        !startsRoom(values[layer], room.values) || room.keys.size(2) < wanted) {
        const int64_t capacity = wanted + std::max<int64_t>(kRoomAhead, wanted / 2);
        auto moved = [&](const at::Tensor& held) {
            auto shape = held.sizes().vec();
            shape[2] = capacity;
            at::Tensor into = at::empty(shape, held.options());
            into.narrow(2, 0, length).copy_(held);
            return into;
        };
        room.keys = moved(keys[layer]);
        room.values = moved(values[layer]);
    }
    room.keys.narrow(2, length, k.size(2)).copy_(k);
    room.values.narrow(2, length, v.size(2)).copy_(v);
    room.filled = wanted;
    keys[layer] = room.keys.narrow(2, 0, wanted);
    values[layer] = room.values.narrow(2, 0, wanted);
    return {keys[layer], values[layer]};
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
