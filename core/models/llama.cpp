#include "models/llama.h"

#include "models/layers.h"

#include <ATen/ATen.h>
#include <cmath>

namespace esper {
namespace {

at::Tensor rotateHalf(const at::Tensor& x) {
    const int64_t half = x.size(-1) / 2;
    return at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}

} // namespace

Result<std::unique_ptr<LlamaModel>> LlamaModel::create(const LlamaConfig& c, WeightSource& w) {
    std::unique_ptr<LlamaModel> m(new LlamaModel());
    m->config_ = c;
    m->options_ = w.options();
    const int64_t h = c.hidden, qd = c.heads * c.headDim, kvd = c.kvHeads * c.headDim;
    m->embed_ = w.get("model.embed_tokens.weight", {c.vocabSize, h});
    m->norm_ = w.get("model.norm.weight", {h});
    // A tied head has no lm_head.weight; some tied checkpoints still carry a copy of it.
    m->head_ = c.tieWordEmbeddings ? m->embed_ : w.get("lm_head.weight", {c.vocabSize, h});
    auto bias = [&](bool present, const std::string& name, int64_t n) {
        return present ? w.get(name, {n}) : at::Tensor();
    };
    for (int64_t i = 0; i < c.layers && w.ok(); ++i) {
        const std::string p = "model.layers." + std::to_string(i) + ".";
        Layer l;
        l.inNorm = w.get(p + "input_layernorm.weight", {h});
        l.postNorm = w.get(p + "post_attention_layernorm.weight", {h});
        l.q = w.get(p + "self_attn.q_proj.weight", {qd, h});
        l.k = w.get(p + "self_attn.k_proj.weight", {kvd, h});
        l.v = w.get(p + "self_attn.v_proj.weight", {kvd, h});
        l.o = w.get(p + "self_attn.o_proj.weight", {h, qd});
        l.qB = bias(c.attentionBias, p + "self_attn.q_proj.bias", qd);
        l.kB = bias(c.attentionBias, p + "self_attn.k_proj.bias", kvd);
        l.vB = bias(c.attentionBias, p + "self_attn.v_proj.bias", kvd);
        l.oB = bias(c.attentionBias, p + "self_attn.o_proj.bias", h);
        l.gate = w.get(p + "mlp.gate_proj.weight", {c.intermediate, h});
        l.up = w.get(p + "mlp.up_proj.weight", {c.intermediate, h});
        l.down = w.get(p + "mlp.down_proj.weight", {h, c.intermediate});
        l.gateB = bias(c.mlpBias, p + "mlp.gate_proj.bias", c.intermediate);
        l.upB = bias(c.mlpBias, p + "mlp.up_proj.bias", c.intermediate);
        l.downB = bias(c.mlpBias, p + "mlp.down_proj.bias", h);
        m->layers_.push_back(std::move(l));
    }
    if (!w.ok()) return fail(ErrorCode::InvalidInput, w.error());
    if (m->options_.weights != WeightFormat::Dense) m->packWeights(m->options_.weights);
    // inv_freq = 1 / theta^(2i/d), in fp32 as Hugging Face computes it.
    auto f32 = at::TensorOptions().dtype(at::kFloat).device(m->options_.device);
    m->invFreq_ =
        1.0 /
        at::pow(
            c.ropeTheta,
            at::arange(0, c.headDim, 2, f32.dtype(at::kLong)).to(at::kFloat).div(double(c.headDim)))
            .to(m->options_.device);
    return m;
}

// Every layer's seven matrices and the head; the token embeddings stay dense for lookups.
void LlamaModel::packWeights(WeightFormat format) {
    for (Layer& l : layers_) {
        auto pack = [format](at::Tensor& w, const at::Tensor& b) {
            auto packed = PackedLinear::pack(w, b, false, format);
            w = at::Tensor();
            return packed;
        };
        l.qP = pack(l.q, l.qB);
        l.kP = pack(l.k, l.kB);
        l.vP = pack(l.v, l.vB);
        l.oP = pack(l.o, l.oB);
        l.gateP = pack(l.gate, l.gateB);
        l.upP = pack(l.up, l.upB);
        l.downP = pack(l.down, l.downB);
    }
    headP_ = PackedLinear::pack(head_, at::Tensor(), false, format);
}

at::Tensor LlamaModel::rmsNorm(const at::Tensor& x, const at::Tensor& w) const {
    const auto x32 = x.to(at::kFloat);
    const auto normed = x32 * at::rsqrt(x32.pow(2).mean(-1, true) + config_.rmsNormEps);
    return w * normed.to(x.scalar_type()); // cast back before the weight, as HF does
}

at::Tensor LlamaModel::embed(const at::Tensor& ids) const {
    return at::embedding(embed_, ids.to(options_.device));
}

at::Tensor LlamaModel::hidden(const LmInput& in, KvCache* cache) const {
    const int64_t b = in.embeds.size(0), t = in.embeds.size(1);
    const int64_t past = cache ? cache->pastFor(t) : 0;
    const auto dev = options_.device;
    const at::Tensor pos = positionsOf(in, past, dev);
    at::Tensor h = in.embeds.to(dev, options_.dtype);
    const auto freqs = pos.to(at::kFloat).unsqueeze(-1) * invFreq_.view({1, 1, -1});
    const auto angles = at::cat({freqs, freqs}, -1);
    const auto cos = angles.cos().to(options_.dtype).unsqueeze(1);
    const auto sin = angles.sin().to(options_.dtype).unsqueeze(1);
    const auto mask = buildAttentionMask(in.attentionMask, b, t, past, true, h.options());
    const double scale = 1.0 / std::sqrt(double(config_.headDim));
    for (size_t i = 0; i < layers_.size(); ++i) {
        const Layer& l = layers_[i];
        const auto x = rmsNorm(h, l.inNorm);
        at::Tensor q = splitHeads(linearOf(x, l.q, l.qB, l.qP), config_.heads);
        at::Tensor k = splitHeads(linearOf(x, l.k, l.kB, l.kP), config_.kvHeads);
        at::Tensor v = splitHeads(linearOf(x, l.v, l.vB, l.vP), config_.kvHeads);
        q = q * cos + rotateHalf(q) * sin;
        k = k * cos + rotateHalf(k) * sin;
        if (cache) std::tie(k, v) = cache->append(i, layers_.size(), k, v);
        h = h + linearOf(mergeHeads(attend(q, k, v, mask, scale)), l.o, l.oB, l.oP);
        const auto x2 = rmsNorm(h, l.postNorm);
        h = h + linearOf(activate(linearOf(x2, l.gate, l.gateB, l.gateP), config_.activation) *
                             linearOf(x2, l.up, l.upB, l.upP),
                         l.down, l.downB, l.downP);
    }
    if (in.lastLogitsOnly) h = h.narrow(1, t - 1, 1);
    return rmsNorm(h, norm_);
}

at::Tensor LlamaModel::logitsOf(const at::Tensor& hidden) const {
    if (headP_) return headP_->forward(hidden);
    return at::linear(hidden, head_);
}

} // namespace esper
