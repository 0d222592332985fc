#include "models/layers.h"

#include "kernels/activations.h"
#include "kernels/attention.h"

#include <torch/version.h>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <limits>

namespace esper {
namespace {

// Whether the CPU kernels (kernels/activations.h, attention.h) may compute on x: fp32 on a CPU
// they are vectorised for, under InferenceMode. Training (NoGradGuard for its rollouts, grad
// mode for its updates) keeps LibTorch's arithmetic in both, so a rollout's log-probabilities
// are the very ones its first update recomputes (ESPER's first PPO ratio is exactly 1).
bool cpuKernelsServe(const at::Tensor& x) {
    return x.is_cpu() && x.scalar_type() == at::kFloat && c10::InferenceMode::is_enabled() &&
           kernels::activeIsa() != kernels::Isa::Generic;
}

} // namespace

at::Tensor activate(const at::Tensor& x, Activation kind) {
    switch (kind) {
    case Activation::GeluNew:
        return at::gelu(x, "tanh");
    case Activation::Gelu:
        return at::gelu(x);
    case Activation::QuickGelu:
        if (cpuKernelsServe(x)) {
            at::Tensor y = x.clone(at::MemoryFormat::Contiguous);
            kernels::quickGelu(y.data_ptr<float>(), y.numel());
            return y;
        }
        return x * at::sigmoid(1.702 * x);
    case Activation::Relu:
        return at::relu(x);
    case Activation::Silu:
        return at::silu(x);
    }
    return x;
}

AttentionMask buildAttentionMask(const at::Tensor& keyMask, int64_t batch, int64_t queries,
                                 int64_t past, bool causal, const at::TensorOptions& options) {
    const int64_t keys = past + queries;
    const bool needCausal = causal && queries > 1;
    if (!keyMask.defined() && !needCausal) return {};
    const auto device = options.device();
    at::Tensor allowed =
        at::ones({batch, 1, queries, keys}, at::TensorOptions().dtype(at::kBool).device(device));
    if (needCausal) {
        auto qi = at::arange(queries, at::TensorOptions().dtype(at::kLong).device(device)) + past;
        auto kj = at::arange(keys, at::TensorOptions().dtype(at::kLong).device(device));
        allowed =
            allowed & (kj.view({1, keys}) <= qi.view({queries, 1})).view({1, 1, queries, keys});
    }
    if (keyMask.defined())
        allowed = allowed & keyMask.to(device).to(at::kBool).view({batch, 1, 1, keys});
    AttentionMask m;
    const double lowest = options.dtype() == at::kHalf
                              ? -65504.0
                              : (options.dtype() == at::kBFloat16
                                     ? -3.3895313892515355e38
                                     : static_cast<double>(std::numeric_limits<float>::lowest()));
    m.bias =
        at::zeros({batch, 1, queries, keys}, options).masked_fill(allowed.logical_not(), lowest);
    m.hasKeys = allowed.any(-1, true).to(options.dtype());
    return m;
}

namespace {

// Whether attend() may run on kernels::attention: as cpuKernelsServe says, with each head's rows
// contiguous.
bool cpuKernelAttends(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
    for (const at::Tensor* t : {&q, &k, &v})
        if (!cpuKernelsServe(*t) || t->stride(3) != 1) return false;
    return q.size(1) % k.size(1) == 0;
}

kernels::HeadsView headsView(const at::Tensor& t) {
    return {t.data_ptr<float>(), t.stride(0), t.stride(1), t.stride(2)};
}

// The attention in kernels::attention: its output is [B, T, H, D] in memory, returned as the
// [B, H, T, D] view of it, so mergeHeads() needs no copy.
at::Tensor kernelAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                           const AttentionMask& mask, double scale) {
    kernels::Attention a;
    a.batch = q.size(0);
    a.heads = q.size(1);
    a.kvHeads = k.size(1);
    a.queries = q.size(2);
    a.keys = k.size(2);
    a.dim = q.size(3);
    a.q = headsView(q);
    a.k = headsView(k);
    a.v = headsView(v);
    a.scale = float(scale);
    at::Tensor bias, hasKeys;
    if (mask.bias.defined()) {
        bias = mask.bias.to(at::kFloat).expand({a.batch, 1, a.queries, a.keys}).contiguous();
        a.bias = bias.data_ptr<float>();
    }
    if (mask.hasKeys.defined()) {
        hasKeys = mask.hasKeys.to(at::kFloat).expand({a.batch, 1, a.queries, 1}).contiguous();
        a.hasKeys = hasKeys.data_ptr<float>();
    }
    at::Tensor out = at::empty({a.batch, a.queries, a.heads, a.dim}, q.options());
    a.out = out.data_ptr<float>();
    kernels::attention(a);
    return out.transpose(1, 2);
}

} // namespace

at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                  const AttentionMask& mask, double scale) {
    if (cpuKernelAttends(q, k, v)) return kernelAttention(q, k, v, mask, scale);
    at::Tensor kk = k, vv = v;
    const int64_t groups = q.size(1) / k.size(1);
    if (groups > 1) {
        kk = k.repeat_interleave(groups, 1);
        vv = v.repeat_interleave(groups, 1);
    }
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
    // With no mask (CLIP's image tower, a decode step without padding) CUDA has fused kernels
    // (flash / memory-efficient) that keep the softmax in fp32 as this code does. LibTorch 1.13
    // and the CPU keep the plain path, so CPU results stay bit-identical across versions.
    if (!mask.bias.defined() && !mask.hasKeys.defined() && q.is_cuda())
        return at::scaled_dot_product_attention(q, kk, vv, {}, 0.0, false, scale);
    // A decode step's one query always has a key (its own), so the additive mask alone is
    // exact there and the fused kernels take it; a padded prefill's pad queries have none.
    if (q.is_cuda() && q.size(2) == 1 && mask.bias.defined())
        return at::scaled_dot_product_attention(q, kk, vv, mask.bias, 0.0, false, scale);
#endif
    at::Tensor scores = at::matmul(q, kk.transpose(-1, -2)) * scale;
    if (mask.bias.defined()) scores = scores + mask.bias;
    at::Tensor probs = at::softmax(scores, -1, at::kFloat).to(q.scalar_type());
    if (mask.hasKeys.defined()) probs = probs * mask.hasKeys;
    return at::matmul(probs, vv);
}

at::Tensor splitHeads(const at::Tensor& x, int64_t heads) {
    const auto b = x.size(0), t = x.size(1);
    return x.view({b, t, heads, x.size(2) / heads}).transpose(1, 2);
}

at::Tensor mergeHeads(const at::Tensor& x) {
    const auto b = x.size(0), h = x.size(1), t = x.size(2), d = x.size(3);
    return x.transpose(1, 2).reshape({b, t, h * d});
}

} // namespace esper
