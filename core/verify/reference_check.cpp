#include "verify/reference_check.h"
#include "models/torch_guard.h"

#include "decode/prefix_decoder.h"
#include "io/model_config.h"
#include "io/safetensors.h"
#include "models/causal_lm.h"
#include "models/clip.h"
#include "models/weight_source.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <c10/util/Exception.h>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

namespace esper {
namespace {

using Outputs = std::map<std::string, std::function<at::Tensor()>>;

// Computes only the outputs the reference file records, so any subset of keys is a valid file.
void compareAll(const SafetensorsFile& io, const Outputs& outputs, double tolerance,
                ReferenceReport& report) {
    for (const auto& [name, compute] : outputs) {
        const TensorInfo* info = io.find(name);
        if (!info) continue;
        const at::Tensor expected = tensorFromFile(io, *info);
        const at::Tensor actual = compute().to(at::kCPU);
        OutputCheck c;
        c.name = name;
        c.count = expected.numel();
        c.isTokens = !at::isFloatingType(expected.scalar_type());
        if (actual.sizes() != expected.sizes()) {
            c.passed = false;
            c.mismatches = c.count;
            c.maxAbsDiff = INFINITY;
        } else if (c.isTokens) {
            c.mismatches = actual.to(at::kLong).ne(expected.to(at::kLong)).sum().item<int64_t>();
            c.passed = c.mismatches == 0;
        } else {
            c.tolerance = tolerance;
            c.maxAbsDiff =
                c.count
                    ? (actual.to(at::kDouble) - expected.to(at::kDouble)).abs().max().item<double>()
                    : 0.0;
            c.passed = c.maxAbsDiff <= tolerance; // NaN fails
        }
        report.checks.push_back(c);
    }
}

at::Tensor input(const SafetensorsFile& io, const std::string& name) {
    const TensorInfo* info = io.find(name);
    return info ? tensorFromFile(io, *info) : at::Tensor();
}

// Greedy continuation as Hugging Face's generate() reports it: the production decoder with
// every rule off, and rows that reached an end-of-text token padded with it.
at::Tensor greedy(const CausalLm& lm, const LmInput& start, const at::Tensor& ids, int64_t steps) {
    DecodeOptions o;
    o.maxNewTokens = static_cast<int>(steps);
    o.noRepeatNgram = 0;
    o.banEos = false;
    o.stopStrings.clear();
    std::vector<std::vector<int>> history;
    for (int64_t r = 0; r < ids.size(0); ++r) {
        const auto row = ids[r].to(at::kLong).contiguous();
        history.emplace_back(row.data_ptr<int64_t>(), row.data_ptr<int64_t>() + row.numel());
    }
    const auto decoded = PrefixDecoder(lm, nullptr).decodeFrom(start, history, o);
    const int64_t pad = lm.eosTokenIds().empty() ? 0 : lm.eosTokenIds().front();
    at::Tensor out = at::full({ids.size(0), steps}, pad, at::kLong);
    for (size_t r = 0; r < decoded->size(); ++r)
        for (size_t k = 0; k < (*decoded)[r].tokens.size(); ++k)
            out[static_cast<int64_t>(r)][static_cast<int64_t>(k)] = (*decoded)[r].tokens[k];
    return out;
}

Outputs languageModelOutputs(const CausalLm& lm, const SafetensorsFile& io) {
    const at::Tensor ids = input(io, "input_ids");
    const at::Tensor prefix = input(io, "prefix_embeds");
    const at::Tensor mask = input(io, "attention_mask");
    const at::Tensor positions = input(io, "position_ids");
    auto withPrefix = [&lm, ids, prefix] {
        return at::cat({prefix.to(lm.options().device, lm.options().dtype), lm.embed(ids)}, 1);
    };
    auto masked = [=] {
        LmInput in{withPrefix(), positions, mask, false};
        return in;
    };
    auto steps = [&io](const char* key) {
        const TensorInfo* t = io.find(key);
        return t && t->shape.size() == 2 ? t->shape[1] : 0;
    };
    Outputs out;
    if (ids.defined())
        out["logits"] = [&lm, ids] { return lm.forward({lm.embed(ids), {}, {}, false}, nullptr); };
    if (ids.defined() && prefix.defined()) {
        out["logits_prefix"] = [&lm, withPrefix] {
            return lm.forward({withPrefix(), {}, {}, false}, nullptr);
        };
        const int64_t n = steps("greedy_prefix");
        out["greedy_prefix"] = [&lm, withPrefix, ids, n] {
            return greedy(lm, {withPrefix(), {}, {}, false}, ids, n);
        };
        if (mask.defined() && positions.defined()) {
            out["logits_masked"] = [&lm, masked] { return lm.forward(masked(), nullptr); };
            const int64_t m = steps("greedy_masked");
            out["greedy_masked"] = [&lm, masked, ids, m] { return greedy(lm, masked(), ids, m); };
        }
    }
    return out;
}

Outputs clipOutputs(const ClipModel& clip, const SafetensorsFile& io) {
    const at::Tensor pixels = input(io, "pixel_values");
    const at::Tensor ids = input(io, "input_ids");
    Outputs out;
    if (pixels.defined()) {
        auto vision = std::make_shared<ClipVisionOutput>(clip.encodeImage(pixels));
        out["vision_last_hidden"] = [vision] { return vision->lastHidden; };
        out["vision_pooled"] = [vision] { return vision->pooled; };
        out["image_features"] = [vision] { return vision->features; };
        if (ids.defined()) {
            auto text = std::make_shared<ClipTextOutput>(clip.encodeText(ids));
            out["logits_per_image"] = [&clip, vision, text] {
                return clip.logitsPerImage(vision->features, text->features);
            };
        }
    }
    if (ids.defined()) {
        auto text = std::make_shared<ClipTextOutput>(clip.encodeText(ids));
        out["text_last_hidden"] = [text] { return text->lastHidden; };
        out["text_pooled"] = [text] { return text->pooled; };
        out["text_features"] = [text] { return text->features; };
    }
    out["logit_scale"] = [&clip] { return clip.logitScale().reshape({1}); };
    return out;
}

} // namespace

bool ReferenceReport::passed() const {
    if (checks.empty()) return false;
    for (const auto& c : checks)
        if (!c.passed) return false;
    return true;
}

std::string ReferenceReport::toJson() const {
    nlohmann::ordered_json j;
    j["family"] = family;
    j["device"] = device;
    j["passed"] = passed();
    j["outputs"] = nlohmann::ordered_json::array();
    for (const auto& c : checks) {
        nlohmann::ordered_json o;
        o["name"] = c.name;
        if (c.isTokens) {
            o["tokens_match"] = c.mismatches == 0;
            o["mismatched_tokens"] = c.mismatches;
        } else {
            o["max_abs_diff"] = c.maxAbsDiff;
            o["tolerance"] = c.tolerance;
        }
        o["elements"] = c.count;
        o["passed"] = c.passed;
        j["outputs"].push_back(o);
    }
    return j.dump(2);
}

Result<ReferenceReport> verifyReference(const std::string& modelDir,
                                        const ReferenceOptions& options) {
    return guardTorch("model computation failed", [&]() -> Result<ReferenceReport> {
        c10::InferenceMode guard;
        auto compute = parseComputeOptions(options.device, options.dtype);
        ESPER_TRY(compute);
        auto config = readModelConfig(modelDir);
        ESPER_TRY(config);
        const std::string ioPath =
            options.ioPath.empty() ? modelDir + "/io.safetensors" : options.ioPath;
        auto io = SafetensorsFile::open(ioPath);
        ESPER_TRY(io);
        auto weights = FileWeights::open(modelDir + "/model.safetensors", compute.value());
        ESPER_TRY(weights);

        ReferenceReport report;
        report.family = familyName(config.value());
        report.device = describe(compute.value());
        if (const auto* clipConfig = std::get_if<ClipConfig>(&config.value())) {
            auto clip = ClipModel::create(*clipConfig, *weights.value());
            ESPER_TRY(clip);
            compareAll(io.value(), clipOutputs(*clip.value(), io.value()), options.tolerance,
                       report);
        } else {
            auto lm = makeCausalLm(config.value(), *weights.value());
            ESPER_TRY(lm);
            compareAll(io.value(), languageModelOutputs(*lm.value(), io.value()), options.tolerance,
                       report);
        }
        if (report.checks.empty())
            return fail("'" + ioPath + "' records no output this model family produces");
        return report;
    });
}

} // namespace esper
