#include "verify/reference_check.h"
#include "models/torch_guard.h"

#include "decode/prefix_decoder.h"
#include "io/model_config.h"
#include "io/safetensors.h"
#include "models/causal_lm.h"
#include "models/clip.h"
#include "models/wav2clip.h"
#include "models/weight_source.h"
#include "util/json_text.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <c10/util/Exception.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace esper {
namespace {

double toleranceFor(const ReferenceOptions& o, const ComputeOptions& ran) {
    if (o.tolerance >= 0) return o.tolerance;
    switch (ran.weights) {
    case WeightFormat::Half:
        return 1e-3;
    case WeightFormat::Int8:
        return 0.02;
    case WeightFormat::BFloat16:
        return 0.1;
    case WeightFormat::Dense:
    case WeightFormat::FloatPanels:
        break;
    }
    if (ran.dtype == c10::kBFloat16) return 0.1;
    return ran.dtype == c10::kHalf ? 0.02 : 1e-4;
}

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
    if (!decoded) throw std::runtime_error(decoded.error()); // guardTorch reports it
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

// One check of `actual` against the recorded `name` with its own tolerance (Wav2CLIP's fixtures
// state a relative one for the spectrogram): the largest absolute difference or, for a
// direction, 1 - cosine (embeddings carry a cosine floor beside the absolute one).
enum class Measure { AbsoluteDifference, Direction };
OutputCheck compareOutput(const std::string& name, const at::Tensor& actualIn,
                          const at::Tensor& expectedIn, double tolerance,
                          Measure measure = Measure::AbsoluteDifference) {
    const at::Tensor actual = actualIn.to(at::kCPU, at::kDouble);
    const at::Tensor expected = expectedIn.to(at::kDouble);
    OutputCheck c;
    c.name = name;
    c.count = expected.numel();
    c.tolerance = tolerance;
    c.maxAbsDiff = INFINITY;
    if (measure == Measure::Direction && actual.numel() == expected.numel()) {
        const auto x = actual.flatten(), y = expected.flatten();
        c.maxAbsDiff = 1.0 - (x.dot(y) / (x.norm() * y.norm())).item<double>();
    } else if (measure == Measure::AbsoluteDifference && actual.sizes() == expected.sizes()) {
        c.maxAbsDiff = c.count ? (actual - expected).abs().max().item<double>() : 0.0;
    }
    c.passed = c.maxAbsDiff <= tolerance; // NaN and mismatched shapes fail
    return c;
}

// The Wav2CLIP fixture: per clip NAME, the encoder from NAME.waveform_16k to the spectrogram,
// the ResNet features and the embedding; and clips encoded together as one batch.
void checkWav2Clip(const Wav2Clip& model, const SafetensorsFile& io, double tolerance,
                   ReferenceReport& report) {
    const std::string suffix = ".waveform_16k";
    for (const auto& t : io.tensors()) {
        if (t.name.size() <= suffix.size() ||
            t.name.compare(t.name.size() - suffix.size(), suffix.size(), suffix) != 0)
            continue;
        const std::string clip = t.name.substr(0, t.name.size() - suffix.size());
        const auto out = model.encode(tensorFromFile(io, t).to(at::kFloat).unsqueeze(0));
        if (const at::Tensor spec = input(io, clip + ".spectrogram"); spec.defined())
            report.checks.push_back(compareOutput(clip + ".spectrogram", out.spectrogram.squeeze(0),
                                                  spec, 1e-5 * spec.abs().max().item<double>()));
        for (const auto& [key, value] : {std::pair{".encoder_features", out.features},
                                         std::pair{".embedding", out.embedding}}) {
            const at::Tensor expected = input(io, clip + key);
            if (!expected.defined()) continue;
            report.checks.push_back(
                compareOutput(clip + key, value.squeeze(0), expected, tolerance));
            report.checks.push_back(
                compareOutput(clip + key + ".cosine", value, expected, 1e-5, Measure::Direction));
        }
    }
    // batch2.names indexes the clip list of meta.json, beside io.safetensors.
    const at::Tensor batchNames = input(io, "batch2.names");
    const at::Tensor batchEmbedding = input(io, "batch2.embedding");
    if (!batchNames.defined() || !batchEmbedding.defined()) return;
    std::ifstream metaFile(std::filesystem::path(io.path()).parent_path() / "meta.json");
    const auto meta = nlohmann::json::parse(metaFile, nullptr, false);
    if (meta.is_discarded() || !meta.contains("clips")) {
        OutputCheck c;
        c.name = "batch2.embedding (meta.json with the clip list is missing)";
        report.checks.push_back(c);
        return;
    }
    std::vector<at::Tensor> waves;
    for (int64_t i = 0; i < batchNames.numel(); ++i) {
        const auto index = static_cast<size_t>(batchNames[i].item<int64_t>());
        if (index >= meta["clips"].size()) return;
        const at::Tensor w = input(io, meta["clips"][index].get<std::string>() + suffix);
        if (!w.defined()) return;
        waves.push_back(w.to(at::kFloat));
    }
    const auto out = model.encode(at::stack(waves));
    report.checks.push_back(
        compareOutput("batch2.embedding", out.embedding, batchEmbedding, tolerance));
    report.checks.push_back(compareOutput("batch2.embedding.cosine", out.embedding, batchEmbedding,
                                          1e-5, Measure::Direction));
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
    return dumpJson(j, 2);
}

Result<ReferenceReport> verifyReference(const std::string& modelDir,
                                        const ReferenceOptions& options) {
    return guardTorch("model computation failed", [&]() -> Result<ReferenceReport> {
        c10::InferenceMode guard;
        auto compute = parseComputeOptions(options.device, options.dtype);
        ESPER_TRY(compute);
        const std::string ioPath =
            options.ioPath.empty() ? modelDir + "/io.safetensors" : options.ioPath;
        if (isWav2ClipFolder(modelDir)) {
            auto io = SafetensorsFile::open(ioPath);
            ESPER_TRY(io);
            auto model = Wav2Clip::load(modelDir, compute.value());
            ESPER_TRY(model);
            ReferenceReport report;
            report.family = "wav2clip";
            report.device = describe(compute.value());
            checkWav2Clip(*model.value(), io.value(), toleranceFor(options, compute.value()),
                          report);
            if (report.checks.empty())
                return fail("'" + ioPath + "' records no Wav2CLIP input (NAME.waveform_16k)");
            return report;
        }
        auto config = readModelConfig(modelDir);
        ESPER_TRY(config);
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
            // CLIP's products run as clipWeights says, whatever the weights of the others.
            ComputeOptions ran = compute.value();
            ran.weights = clipWeights(ran);
            report.device = describe(ran);
            compareAll(io.value(), clipOutputs(*clip.value(), io.value()),
                       toleranceFor(options, ran), report);
        } else {
            auto lm = makeCausalLm(config.value(), *weights.value());
            ESPER_TRY(lm);
            compareAll(io.value(), languageModelOutputs(*lm.value(), io.value()),
                       toleranceFor(options, compute.value()), report);
        }
        if (report.checks.empty())
            return fail("'" + ioPath + "' records no output this model family produces");
        return report;
    });
}

} // namespace esper
