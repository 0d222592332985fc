// config.json of the three model families, accepting the spellings of old and new transformers.
#pragma once

#include "util/result.h"

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace esper {

enum class Activation { GeluNew, Gelu, QuickGelu, Relu, Silu };

struct Gpt2Config {
    int64_t vocabSize = 50257, positions = 1024, embd = 768, layers = 12, heads = 12, inner = 0;
    double layerNormEps = 1e-5;
    Activation activation = Activation::GeluNew;
    bool scaleAttnWeights = true, scaleByInverseLayerIdx = false;
    int64_t bosTokenId = 50256, eosTokenId = 50256;
    int64_t innerSize() const { return inner > 0 ? inner : 4 * embd; } // n_inner null: 4·E
};

struct ClipTowerConfig {
    int64_t hidden = 0, intermediate = 0, layers = 0, heads = 0;
    double layerNormEps = 1e-5;
    Activation activation = Activation::QuickGelu;
};

struct ClipConfig { // defaults: openai/clip-vit-base-patch32
    ClipTowerConfig text{512, 2048, 12, 8, 1e-5, Activation::QuickGelu};
    ClipTowerConfig vision{768, 3072, 12, 12, 1e-5, Activation::QuickGelu};
    int64_t vocabSize = 49408, maxPositions = 77, eosTokenId = 49407, bosTokenId = 49406,
            padTokenId = 1;
    int64_t imageSize = 224, patchSize = 32, channels = 3;
    int64_t projectionDim = 512;
};

struct LlamaConfig {
    int64_t vocabSize = 32000, hidden = 4096, intermediate = 11008, layers = 32, heads = 32,
            kvHeads = 32, headDim = 128, maxPositions = 2048;
    double rmsNormEps = 1e-6, ropeTheta = 10000.0;
    bool tieWordEmbeddings = false, attentionBias = false, mlpBias = false;
    Activation activation = Activation::Silu;
    int64_t bosTokenId = 1;
    std::vector<int64_t> eosTokenIds{2};
};

using ModelConfig = std::variant<Gpt2Config, ClipConfig, LlamaConfig>;

Result<ModelConfig> parseModelConfig(const std::string& jsonText, const std::string& origin);
// Reads DIR/config.json.
Result<ModelConfig> readModelConfig(const std::string& dir);

const char* familyName(const ModelConfig& config);

} // namespace esper
