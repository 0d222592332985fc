// CLIP (vision and text towers with their projections) as Hugging Face's CLIPModel computes it.
#pragma once

#include "io/model_config.h"
#include "models/weight_source.h"

#include <memory>

namespace esper {

class PackedLinear;

struct ClipVisionOutput {
    at::Tensor lastHidden; // [B, 1 + patches, D]
    at::Tensor pooled;     // [B, D] post_layernorm of the class token
    at::Tensor features;   // [B, P] projected, not normalised
};

struct ClipTextOutput {
    at::Tensor lastHidden; // [B, L, D] after final_layer_norm
    at::Tensor pooled;     // [B, D] at the end-of-text token
    at::Tensor features;   // [B, P] projected, not normalised
};

class ClipModel {
public:
    static Result<std::unique_ptr<ClipModel>> create(const ClipConfig& config, WeightSource& w);
    static Result<std::unique_ptr<ClipModel>> load(const std::string& dir, ComputeOptions options);

    // pixels [B, 3, S, S] normalised as CLIP's preprocessing does.
    ClipVisionOutput encodeImage(const at::Tensor& pixels) const;
    // ids [B, L]; attentionMask [B, L] optional (the causal mask already hides what follows eot).
    ClipTextOutput encodeText(const at::Tensor& ids, const at::Tensor& attentionMask = {}) const;
    // exp(logit_scale) · normalise(image) · normalise(text)ᵀ: [B_image, B_text]
    at::Tensor logitsPerImage(const at::Tensor& imageFeatures,
                              const at::Tensor& textFeatures) const;

    const ClipConfig& config() const { return config_; }
    const ComputeOptions& options() const { return options_; }
    at::Tensor logitScale() const { return logitScale_; }

private:
    struct Layer {
        at::Tensor ln1W, ln1B, qW, qB, kW, kB, vW, vB, oW, oB, ln2W, ln2B, fc1W, fc1B, fc2W, fc2B;
        // Set when the products run compressed (clipWeights): q, k and v as one product.
        std::shared_ptr<const PackedLinear> qkv, o, fc1, fc2;
    };
    struct Tower {
        ClipTowerConfig config;
        std::vector<Layer> layers;
    };
    static Tower loadTower(const ClipTowerConfig& c, const std::string& prefix, WeightSource& w);
    static void packTower(Tower& tower, WeightFormat format);
    at::Tensor runEncoder(const Tower& tower, at::Tensor h, const at::Tensor& keyMask,
                          bool causal) const;

    ClipConfig config_;
    ComputeOptions options_;
    Tower vision_, text_;
    at::Tensor classEmbedding_, patchEmbedding_, visionPositions_, preLnW_, preLnB_, postLnW_,
        postLnB_, visualProjection_;
    at::Tensor tokenEmbedding_, textPositions_, finalLnW_, finalLnB_, textProjection_;
    at::Tensor logitScale_;
    // Set with the towers' packed products: the patch embedding as one product over the image's
    // patches, each flattened (channel, row, column) as the convolution's weight is.
    std::shared_ptr<const PackedLinear> patchProduct_;
};

} // namespace esper
