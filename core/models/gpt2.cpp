#include "models/gpt2.h"

#include "models/layers.h"

#include <ATen/ATen.h>
#include <cmath>

namespace esper {
namespace {

// GPT-2's Conv1D: weight stored [in, out], y = x·W + b.
at::Tensor conv1d(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b,
                  const std::shared_ptr<const PackedLinear>& packed) {
    return linearOf(x, w, b, packed, /*inOut=*/true);
}

} // namespace

Result<std::unique_ptr<Gpt2Model>> Gpt2Model::create(const Gpt2Config& c, WeightSource& w) {
    auto* files = dynamic_cast<FileWeights*>(&w);
    if (files) files->setAlternativePrefix("transformer.");
    std::unique_ptr<Gpt2Model> m(new Gpt2Model());
    m->config_ = c;
    m->options_ = w.options();
    const int64_t e = c.embd;
    m->wte_ = w.get("wte.weight", {c.vocabSize, e});
    m->wpe_ = w.get("wpe.weight", {c.positions, e});
    m->lnfW_ = w.get("ln_f.weight", {e});
    m->lnfB_ = w.get("ln_f.bias", {e});
    for (int64_t i = 0; i < c.layers && w.ok(); ++i) {
        const std::string p = "h." + std::to_string(i) + ".";
        Block b;
        b.ln1W = w.get(p + "ln_1.weight", {e});
        b.ln1B = w.get(p + "ln_1.bias", {e});
        b.attnW = w.get(p + "attn.c_attn.weight", {e, 3 * e});
        b.attnB = w.get(p + "attn.c_attn.bias", {3 * e});
        b.projW = w.get(p + "attn.c_proj.weight", {e, e});
        b.projB = w.get(p + "attn.c_proj.bias", {e});
        b.ln2W = w.get(p + "ln_2.weight", {e});
        b.ln2B = w.get(p + "ln_2.bias", {e});
        b.fcW = w.get(p + "mlp.c_fc.weight", {e, c.innerSize()});
        b.fcB = w.get(p + "mlp.c_fc.bias", {c.innerSize()});
        b.outW = w.get(p + "mlp.c_proj.weight", {c.innerSize(), e});
        b.outB = w.get(p + "mlp.c_proj.bias", {e});
        m->blocks_.push_back(std::move(b));
    }
    if (!w.ok()) return fail(ErrorCode::InvalidInput, w.error());
    if (m->options_.weights != WeightFormat::Dense) m->packWeights(m->options_.weights);
    return m;
}

// The four matrices of every block and the head; the token embeddings stay dense for lookups.
void Gpt2Model::packWeights(WeightFormat format) {
    for (Block& b : blocks_) {
        b.attn = PackedLinear::pack(b.attnW, b.attnB, true, format);
        b.proj = PackedLinear::pack(b.projW, b.projB, true, format);
        b.fc = PackedLinear::pack(b.fcW, b.fcB, true, format);
        b.out = PackedLinear::pack(b.outW, b.outB, true, format);
        b.attnW = b.projW = b.fcW = b.outW = at::Tensor();
    }
    head_ = PackedLinear::pack(wte_, at::Tensor(), false, format);
}

at::Tensor Gpt2Model::embed(const at::Tensor& ids) const {
    return at::embedding(wte_, ids.to(options_.device));
}

at::Tensor Gpt2Model::hidden(const LmInput& in, KvCache* cache) const {
    const int64_t b = in.embeds.size(0), t = in.embeds.size(1);
    const int64_t past = cache ? cache->pastFor(t) : 0;
    const auto dev = options_.device;
    const at::Tensor pos = positionsOf(in, past, dev);
    at::Tensor h = in.embeds.to(dev, options_.dtype) + at::embedding(wpe_, pos);
    const auto mask = buildAttentionMask(in.attentionMask, b, t, past, true, h.options());
    const int64_t heads = config_.heads, e = config_.embd;
    for (size_t i = 0; i < blocks_.size(); ++i) {
        const Block& blk = blocks_[i];
        const auto a = at::layer_norm(h, {e}, blk.ln1W, blk.ln1B, config_.layerNormEps);
        const auto qkv = conv1d(a, blk.attnW, blk.attnB, blk.attn).split(e, -1);
        at::Tensor q = splitHeads(qkv[0], heads), k = splitHeads(qkv[1], heads),
                   v = splitHeads(qkv[2], heads);
        if (cache) std::tie(k, v) = cache->append(i, blocks_.size(), k, v);
        double scale = config_.scaleAttnWeights ? 1.0 / std::sqrt(double(e / heads)) : 1.0;
        if (config_.scaleByInverseLayerIdx) scale /= double(i + 1);
        h = h + conv1d(mergeHeads(attend(q, k, v, mask, scale)), blk.projW, blk.projB, blk.proj);
        const auto m = at::layer_norm(h, {e}, blk.ln2W, blk.ln2B, config_.layerNormEps);
        h = h + conv1d(activate(conv1d(m, blk.fcW, blk.fcB, blk.fc), config_.activation), blk.outW,
                       blk.outB, blk.out);
    }
    if (in.lastLogitsOnly) h = h.narrow(1, t - 1, 1);
    return at::layer_norm(h, {e}, lnfW_, lnfB_, config_.layerNormEps);
}

at::Tensor Gpt2Model::logitsOf(const at::Tensor& hidden) const {
    if (head_) return head_->forward(hidden);
    return at::matmul(hidden, wte_.t()); // the head is tied to the token embeddings
}

} // namespace esper
