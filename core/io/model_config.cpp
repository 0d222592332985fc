#include "io/model_config.h"

#include "util/file_util.h"
#include "util/input_limits.h"
#include "util/json_text.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace esper {
namespace {

using json = nlohmann::json;

// Reads optional typed fields and remembers the first problem, so each parser reads linearly.
class Fields {
public:
    Fields(const json& j, std::string where) : j_(j), where_(std::move(where)) {}

    // A value out of range is reported and not stored, so the checks that follow (divisions
    // by a head count, for one) still see the default, never a zero.
    void integer(const char* key, int64_t& out, int64_t minimum = 1,
                 int64_t maximum = kMaxModelDimension) {
        if (!j_.contains(key) || j_[key].is_null()) return;
        if (!j_[key].is_number_integer()) return problem(std::string(key) + " is not an integer");
        const int64_t value = j_[key].get<int64_t>();
        if (value < minimum || value > maximum)
            return problem(std::string(key) + " = " + std::to_string(value) + " is out of range (" +
                           std::to_string(minimum) + ".." + std::to_string(maximum) + ")");
        out = value;
    }
    void number(const char* key, double& out) {
        if (!j_.contains(key) || j_[key].is_null()) return;
        if (!j_[key].is_number()) return problem(std::string(key) + " is not a number");
        const double value = j_[key].get<double>();
        if (!std::isfinite(value)) return problem(std::string(key) + " is not finite");
        out = value;
    }
    void boolean(const char* key, bool& out) {
        if (!j_.contains(key) || j_[key].is_null()) return;
        if (!j_[key].is_boolean()) return problem(std::string(key) + " is not true/false");
        out = j_[key].get<bool>();
    }
    void activation(const char* key, Activation& out) {
        if (!j_.contains(key) || j_[key].is_null()) return;
        if (!j_[key].is_string()) return problem(std::string(key) + " is not a string");
        const auto name = j_[key].get<std::string>();
        if (name == "gelu_new" || name == "gelu_pytorch_tanh")
            out = Activation::GeluNew;
        else if (name == "gelu")
            out = Activation::Gelu;
        else if (name == "quick_gelu")
            out = Activation::QuickGelu;
        else if (name == "relu")
            out = Activation::Relu;
        else if (name == "silu" || name == "swish")
            out = Activation::Silu;
        else
            problem("activation '" + name + "' is not supported");
    }
    void require(bool condition, const std::string& message) {
        if (!condition) problem(message);
    }
    void problem(const std::string& message) {
        if (error_.empty()) error_ = where_ + ": " + message;
    }
    const std::string& error() const { return error_; }

private:
    const json& j_;
    std::string where_;
    std::string error_;
};

Result<ModelConfig> parseGpt2(const json& j, const std::string& where) {
    Gpt2Config c;
    Fields f(j, where);
    f.integer("vocab_size", c.vocabSize);
    f.integer("n_positions", c.positions);
    f.integer("n_embd", c.embd);
    f.integer("n_layer", c.layers);
    f.integer("n_head", c.heads);
    f.integer("n_inner", c.inner, 0);
    f.number("layer_norm_epsilon", c.layerNormEps);
    f.activation("activation_function", c.activation);
    f.boolean("scale_attn_weights", c.scaleAttnWeights);
    f.boolean("scale_attn_by_inverse_layer_idx", c.scaleByInverseLayerIdx);
    f.integer("bos_token_id", c.bosTokenId, 0);
    f.integer("eos_token_id", c.eosTokenId, 0);
    f.require(c.embd % c.heads == 0, "n_embd is not a multiple of n_head");
    if (!f.error().empty()) return fail(ErrorCode::InvalidInput, f.error());
    return ModelConfig{c};
}

void parseClipTower(const json& j, ClipTowerConfig& t, Fields& f) {
    f.integer("hidden_size", t.hidden);
    f.integer("intermediate_size", t.intermediate);
    f.integer("num_hidden_layers", t.layers);
    f.integer("num_attention_heads", t.heads);
    f.number("layer_norm_eps", t.layerNormEps);
    f.activation("hidden_act", t.activation);
    (void)j;
}

Result<ModelConfig> parseClip(const json& j, const std::string& where) {
    ClipConfig c;
    Fields top(j, where);
    top.integer("projection_dim", c.projectionDim);
    const json empty = json::object();
    const json& tj =
        j.contains("text_config") && j["text_config"].is_object() ? j["text_config"] : empty;
    const json& vj =
        j.contains("vision_config") && j["vision_config"].is_object() ? j["vision_config"] : empty;
    Fields tf(tj, where + " text_config");
    parseClipTower(tj, c.text, tf);
    tf.integer("vocab_size", c.vocabSize);
    tf.integer("max_position_embeddings", c.maxPositions);
    tf.integer("eos_token_id", c.eosTokenId, 0);
    tf.integer("bos_token_id", c.bosTokenId, 0);
    tf.integer("pad_token_id", c.padTokenId, 0);
    Fields vf(vj, where + " vision_config");
    parseClipTower(vj, c.vision, vf);
    vf.integer("image_size", c.imageSize);
    vf.integer("patch_size", c.patchSize);
    vf.integer("num_channels", c.channels);
    vf.require(c.imageSize % c.patchSize == 0, "image_size is not a multiple of patch_size");
    vf.require(c.vision.hidden % c.vision.heads == 0, "hidden_size is not a multiple of heads");
    tf.require(c.text.hidden % c.text.heads == 0, "hidden_size is not a multiple of heads");
    for (const Fields* f : {&top, &tf, &vf})
        if (!f->error().empty()) return fail(f->error());
    return ModelConfig{c};
}

Result<ModelConfig> parseLlama(const json& j, const std::string& where) {
    LlamaConfig c;
    Fields f(j, where);
    f.integer("vocab_size", c.vocabSize);
    f.integer("hidden_size", c.hidden);
    f.integer("intermediate_size", c.intermediate);
    f.integer("num_hidden_layers", c.layers);
    f.integer("num_attention_heads", c.heads);
    c.kvHeads = c.heads;
    f.integer("num_key_value_heads", c.kvHeads);
    c.headDim = c.hidden / c.heads;
    f.integer("head_dim", c.headDim);
    f.integer("max_position_embeddings", c.maxPositions);
    f.number("rms_norm_eps", c.rmsNormEps);
    f.boolean("tie_word_embeddings", c.tieWordEmbeddings);
    f.boolean("attention_bias", c.attentionBias);
    f.boolean("mlp_bias", c.mlpBias);
    f.activation("hidden_act", c.activation);
    f.integer("bos_token_id", c.bosTokenId, 0);
    // transformers 5 nests the rotary base in rope_parameters; older files keep it top-level.
    f.number("rope_theta", c.ropeTheta);
    for (const char* key : {"rope_parameters", "rope_scaling"}) {
        if (!j.contains(key) || j[key].is_null()) continue;
        const json& rope = j[key];
        if (!rope.is_object()) {
            f.problem(std::string(key) + " is not an object");
            continue;
        }
        Fields rf(rope, where + " " + key);
        rf.number("rope_theta", c.ropeTheta);
        const std::string type =
            rope.value("rope_type", rope.value("type", std::string("default")));
        if (type != "default")
            f.problem("rope type '" + type + "' is not supported (only the default RoPE)");
        if (!rf.error().empty()) f.problem(rf.error());
    }
    if (j.contains("eos_token_id")) {
        const json& e = j["eos_token_id"];
        if (e.is_number_integer())
            c.eosTokenIds = {e.get<int64_t>()};
        else if (e.is_array()) {
            c.eosTokenIds.clear();
            for (const auto& v : e)
                if (v.is_number_integer()) c.eosTokenIds.push_back(v.get<int64_t>());
        }
    }
    f.require(c.heads % c.kvHeads == 0, "num_attention_heads is not a multiple of "
                                        "num_key_value_heads");
    f.require(c.headDim % 2 == 0, "head_dim must be even for rotary embeddings");
    if (!f.error().empty()) return fail(ErrorCode::InvalidInput, f.error());
    return ModelConfig{c};
}

} // namespace

Result<ModelConfig> parseModelConfig(const std::string& jsonText, const std::string& origin) {
    auto parsed = parseJsonText(jsonText, origin);
    ESPER_TRY(parsed);
    json j = std::move(parsed.value());
    if (!j.is_object()) return fail(origin + " is not a JSON object");
    if (!j.contains("model_type") || !j["model_type"].is_string())
        return fail(origin + " has no model_type; expected gpt2, clip or llama");
    const std::string type = j["model_type"].get<std::string>();
    if (type == "gpt2") return parseGpt2(j, origin);
    if (type == "clip") return parseClip(j, origin);
    if (type == "llama") return parseLlama(j, origin);
    return fail(origin + ": model_type '" + type + "' is not supported (gpt2, clip, llama)");
}

Result<ModelConfig> readModelConfig(const std::string& dir) {
    const std::string path = dir + "/config.json";
    auto text = readTextFile(path);
    ESPER_TRY(text);
    return parseModelConfig(text.value(), path);
}

const char* familyName(const ModelConfig& config) {
    switch (config.index()) {
    case 0:
        return "gpt2";
    case 1:
        return "clip";
    default:
        return "llama";
    }
}

} // namespace esper
