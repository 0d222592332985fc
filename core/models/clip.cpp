#include "models/clip.h"

#include "models/layers.h"
#include "models/packed_linear.h"

#include <ATen/ATen.h>
#include <cmath>
#include <filesystem>

namespace esper {

ClipModel::Tower ClipModel::loadTower(const ClipTowerConfig& c, const std::string& prefix,
                                      WeightSource& w) {
    Tower t;
    t.config = c;
    const int64_t d = c.hidden, i = c.intermediate;
    for (int64_t n = 0; n < c.layers && w.ok(); ++n) {
        const std::string p = prefix + "encoder.layers." + std::to_string(n) + ".";
        // A module's weight ({out} for a norm, {out, in} for a linear layer) and its bias.
        auto module = [&](const std::string& name, std::vector<int64_t> shape) {
            const int64_t out = shape.front();
            return std::pair{w.get(p + name + ".weight", shape), w.get(p + name + ".bias", {out})};
        };
        Layer l;
        std::tie(l.ln1W, l.ln1B) = module("layer_norm1", {d});
        std::tie(l.qW, l.qB) = module("self_attn.q_proj", {d, d});
        std::tie(l.kW, l.kB) = module("self_attn.k_proj", {d, d});
        std::tie(l.vW, l.vB) = module("self_attn.v_proj", {d, d});
        std::tie(l.oW, l.oB) = module("self_attn.out_proj", {d, d});
        std::tie(l.ln2W, l.ln2B) = module("layer_norm2", {d});
        std::tie(l.fc1W, l.fc1B) = module("mlp.fc1", {i, d});
        std::tie(l.fc2W, l.fc2B) = module("mlp.fc2", {d, i});
        t.layers.push_back(std::move(l));
    }
    return t;
}

Result<std::unique_ptr<ClipModel>> ClipModel::create(const ClipConfig& c, WeightSource& w) {
    std::unique_ptr<ClipModel> m(new ClipModel());
    m->config_ = c;
    m->options_ = w.options();
    const int64_t vd = c.vision.hidden, td = c.text.hidden;
    const int64_t grid = c.imageSize / c.patchSize;
    m->classEmbedding_ = w.get("vision_model.embeddings.class_embedding", {vd});
    m->patchEmbedding_ = w.get("vision_model.embeddings.patch_embedding.weight",
                               {vd, c.channels, c.patchSize, c.patchSize});
    m->visionPositions_ =
        w.get("vision_model.embeddings.position_embedding.weight", {grid * grid + 1, vd});
    m->preLnW_ = w.get("vision_model.pre_layrnorm.weight", {vd});
    m->preLnB_ = w.get("vision_model.pre_layrnorm.bias", {vd});
    m->postLnW_ = w.get("vision_model.post_layernorm.weight", {vd});
    m->postLnB_ = w.get("vision_model.post_layernorm.bias", {vd});
    m->visualProjection_ = w.get("visual_projection.weight", {c.projectionDim, vd});
    m->tokenEmbedding_ = w.get("text_model.embeddings.token_embedding.weight", {c.vocabSize, td});
    m->textPositions_ =
        w.get("text_model.embeddings.position_embedding.weight", {c.maxPositions, td});
    m->finalLnW_ = w.get("text_model.final_layer_norm.weight", {td});
    m->finalLnB_ = w.get("text_model.final_layer_norm.bias", {td});
    m->textProjection_ = w.get("text_projection.weight", {c.projectionDim, td});
    m->logitScale_ = w.get("logit_scale", {});
    m->vision_ = loadTower(c.vision, "vision_model.", w);
    m->text_ = loadTower(c.text, "text_model.", w);
    if (!w.ok()) return fail(ErrorCode::InvalidInput, w.error());
    const WeightFormat f = w.trainable() ? WeightFormat::Dense : clipWeights(m->options_);
    if (f != WeightFormat::Dense) {
        packTower(m->vision_, f);
        packTower(m->text_, f);
        m->patchProduct_ = PackedLinear::pack(m->patchEmbedding_.reshape({vd, -1}), {}, false, f);
    }
    return m;
}

void ClipModel::packTower(Tower& tower, WeightFormat format) {
    for (Layer& l : tower.layers) {
        l.qkv = PackedLinear::pack(at::cat({l.qW, l.kW, l.vW}), at::cat({l.qB, l.kB, l.vB}), false,
                                   format);
        l.o = PackedLinear::pack(l.oW, l.oB, false, format);
        l.fc1 = PackedLinear::pack(l.fc1W, l.fc1B, false, format);
        l.fc2 = PackedLinear::pack(l.fc2W, l.fc2B, false, format);
        l.qW = l.kW = l.vW = l.oW = l.fc1W = l.fc2W = at::Tensor();
    }
}

Result<std::unique_ptr<ClipModel>> ClipModel::load(const std::string& dir, ComputeOptions options) {
    auto config = readModelConfig(dir);
    ESPER_TRY(config);
    if (!std::holds_alternative<ClipConfig>(config.value()))
        return fail("'" + dir + "' holds a " + familyName(config.value()) +
                    " model, not a CLIP model");
    auto weights = FileWeights::open(dir + "/model.safetensors", options);
    ESPER_TRY(weights);
    return create(std::get<ClipConfig>(config.value()), *weights.value());
}

at::Tensor ClipModel::runEncoder(const Tower& tower, at::Tensor h, const at::Tensor& keyMask,
                                 bool causal) const {
    const auto& c = tower.config;
    const int64_t d = c.hidden;
    const auto mask = buildAttentionMask(keyMask, h.size(0), h.size(1), 0, causal, h.options());
    const double scale = 1.0 / std::sqrt(double(d / c.heads));
    for (const Layer& l : tower.layers) {
        const auto x = at::layer_norm(h, {d}, l.ln1W, l.ln1B, c.layerNormEps);
        at::Tensor q, k, v;
        if (l.qkv) {
            const auto parts = l.qkv->forward(x).split(d, -1);
            q = parts[0];
            k = parts[1];
            v = parts[2];
        } else {
            q = at::linear(x, l.qW, l.qB);
            k = at::linear(x, l.kW, l.kB);
            v = at::linear(x, l.vW, l.vB);
        }
        h = h + linearOf(mergeHeads(attend(splitHeads(q, c.heads), splitHeads(k, c.heads),
                                           splitHeads(v, c.heads), mask, scale)),
                         l.oW, l.oB, l.o);
        const auto y = at::layer_norm(h, {d}, l.ln2W, l.ln2B, c.layerNormEps);
        h = h + linearOf(activate(linearOf(y, l.fc1W, l.fc1B, l.fc1), c.activation), l.fc2W, l.fc2B,
                         l.fc2);
    }
    return h;
}

ClipVisionOutput ClipModel::encodeImage(const at::Tensor& pixels) const {
    const int64_t b = pixels.size(0), d = config_.vision.hidden, p = config_.patchSize;
    const at::Tensor in = pixels.to(options_.device, options_.dtype);
    at::Tensor x;
    if (patchProduct_) {
        // The stride-p convolution as a product over patches: [B, C, gy·p, gx·p] to
        // [B, gy·gx, C·p·p] (LibTorch's convolution here: 3.6 ms of one image's ~50).
        const int64_t c = in.size(1), gy = in.size(2) / p, gx = in.size(3) / p;
        x = patchProduct_->forward(in.narrow(2, 0, gy * p)
                                       .narrow(3, 0, gx * p)
                                       .reshape({b, c, gy, p, gx, p})
                                       .permute({0, 2, 4, 1, 3, 5})
                                       .reshape({b, gy * gx, c * p * p}));
    } else {
        x = at::conv2d(in, patchEmbedding_, {}, p);
        x = x.flatten(2).transpose(1, 2); // [B, patches, D], row-major patch order
    }
    const auto cls = classEmbedding_.view({1, 1, d}).expand({b, 1, d});
    at::Tensor h = at::cat({cls, x}, 1) + visionPositions_.unsqueeze(0);
    h = at::layer_norm(h, {d}, preLnW_, preLnB_, config_.vision.layerNormEps);
    ClipVisionOutput out;
    out.lastHidden = runEncoder(vision_, h, {}, false);
    out.pooled = at::layer_norm(out.lastHidden.select(1, 0), {d}, postLnW_, postLnB_,
                                config_.vision.layerNormEps);
    out.features = at::linear(out.pooled, visualProjection_);
    return out;
}

ClipTextOutput ClipModel::encodeText(const at::Tensor& idsIn,
                                     const at::Tensor& attentionMask) const {
    const auto ids = idsIn.to(options_.device).to(at::kLong);
    const int64_t len = ids.size(1), d = config_.text.hidden;
    at::Tensor h =
        at::embedding(tokenEmbedding_, ids) + textPositions_.narrow(0, 0, len).unsqueeze(0);
    ClipTextOutput out;
    out.lastHidden = at::layer_norm(runEncoder(text_, h, attentionMask, true), {d}, finalLnW_,
                                    finalLnB_, config_.text.layerNormEps);
    // Pool at the first end-of-text token; configs with the stale eos id 2 pool at the largest
    // id instead, which is the end-of-text token of CLIP's own vocabulary.
    const at::Tensor where = config_.eosTokenId == 2
                                 ? ids.argmax(-1)
                                 : ids.eq(config_.eosTokenId).to(at::kInt).argmax(-1);
    out.pooled = out.lastHidden.gather(1, where.view({-1, 1, 1}).expand({-1, 1, d})).squeeze(1);
    out.features = at::linear(out.pooled, textProjection_);
    return out;
}

at::Tensor ClipModel::logitsPerImage(const at::Tensor& imageFeatures,
                                     const at::Tensor& textFeatures) const {
    const auto img = imageFeatures / imageFeatures.norm(2, -1, true);
    const auto txt = textFeatures / textFeatures.norm(2, -1, true);
    return at::matmul(img, txt.t()) * logitScale_.exp();
}

} // namespace esper
