#include "models/wav2clip.h"

#include "util/file_util.h"
#include "util/json_text.h"

#include <ATen/ATen.h>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace esper {
namespace {

namespace fs = std::filesystem;
const std::string kEncoder = "audio_encoder.";
const std::string kTransform = "audio_transform.sequential.";

std::string stagePrefix(size_t stage, int64_t block) {
    return kEncoder + "layer" + std::to_string(stage + 1) + "." + std::to_string(block) + ".";
}

} // namespace

std::string Wav2ClipConfig::json() const {
    nlohmann::json j{{"model_type", "wav2clip"}, {"n_fft", nFft},
                     {"hop_length", hop},        {"sample_rate", sampleRate},
                     {"widths", widths},         {"blocks", blocks},
                     {"mlp_units", mlp},         {"batch_norm_eps", batchNormEps},
                     {"dropout", dropout}};
    if (clipFeatureNorm > 0) j["clip_feature_norm"] = clipFeatureNorm;
    return dumpJson(j, 2);
}

Result<Wav2ClipConfig> parseWav2ClipConfig(const std::string& text, const std::string& origin) {
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return fail("'" + origin + "' is not valid JSON");
    if (j.value("model_type", "") != "wav2clip")
        return fail("'" + origin + "' does not describe a Wav2CLIP model");
    Wav2ClipConfig c;
    try {
        c.nFft = j.value("n_fft", c.nFft);
        c.hop = j.value("hop_length", c.hop);
        c.sampleRate = j.value("sample_rate", c.sampleRate);
        c.widths = j.value("widths", c.widths);
        c.blocks = j.value("blocks", c.blocks);
        c.mlp = j.value("mlp_units", c.mlp);
        c.batchNormEps = j.value("batch_norm_eps", c.batchNormEps);
        c.dropout = j.value("dropout", c.dropout);
        c.clipFeatureNorm = j.value("clip_feature_norm", c.clipFeatureNorm);
    } catch (const nlohmann::json::exception&) {
        return fail(ErrorCode::InvalidInput, "'" + origin + "' has a value of the wrong type");
    }
    const auto positive = [](const std::vector<int64_t>& v, int64_t most) {
        for (auto x : v)
            if (x < 1 || x > most) return false;
        return true;
    };
    if (c.nFft < 16 || c.nFft > 8192 || c.hop < 1 || c.hop > c.nFft || c.sampleRate < 1000 ||
        c.widths.empty() || c.widths.size() != c.blocks.size() || !positive(c.widths, 4096) ||
        !positive(c.blocks, 64) || !positive(c.mlp, 65536) || c.mlp.size() == 1 ||
        !(c.batchNormEps > 0) || !(c.dropout >= 0 && c.dropout < 1) ||
        !(c.clipFeatureNorm >= 0 && c.clipFeatureNorm < 1e6))
        return fail(ErrorCode::InvalidInput,
                    "'" + origin + "' holds an impossible Wav2CLIP layout");
    if (!c.mlp.empty() && c.mlp.front() != c.widths.back())
        return fail(ErrorCode::InvalidInput, "'" + origin + "': the MLP's input (" +
                                                 std::to_string(c.mlp.front()) +
                                                 ") is not the ResNet's output width");
    return c;
}

Result<Wav2ClipConfig> inferWav2ClipConfig(const SafetensorsFile& file) {
    Wav2ClipConfig c;
    c.widths.clear();
    c.blocks.clear();
    for (size_t stage = 0;; ++stage) {
        const TensorInfo* first = file.find(stagePrefix(stage, 0) + "conv1.weight");
        if (!first) break;
        int64_t n = 1;
        while (file.find(stagePrefix(stage, n) + "conv1.weight"))
            ++n;
        c.widths.push_back(first->shape.at(0));
        c.blocks.push_back(n);
    }
    if (c.widths.empty())
        return fail(ErrorCode::InvalidInput, "'" + file.path() +
                                                 "' holds no Wav2CLIP encoder (no '" + kEncoder +
                                                 "layer1.0.conv1.weight')");
    c.mlp.clear();
    for (int index = 0;; index += 3) {
        const TensorInfo* w = file.find(kTransform + std::to_string(index) + ".weight");
        if (!w || w->shape.size() != 2) break;
        if (c.mlp.empty()) c.mlp.push_back(w->shape[1]);
        c.mlp.push_back(w->shape[0]);
    }
    if (const TensorInfo* window = file.find(kEncoder + "spectrogram.window");
        window && window->shape.size() == 1)
        c.nFft = window->shape[0];
    return c;
}

bool isWav2ClipFolder(const std::string& dir) {
    if (auto text = readTextFile(dir + "/config.json"))
        return parseWav2ClipConfig(text.value(), dir).ok();
    auto file = SafetensorsFile::open(dir + "/model.safetensors");
    return file && file->find(stagePrefix(0, 0) + "conv1.weight") != nullptr;
}

Wav2Clip::Norm Wav2Clip::loadNorm(const std::string& prefix, int64_t channels, WeightSource& w) {
    return {w.get(prefix + "weight", {channels}), w.get(prefix + "bias", {channels}),
            w.get(prefix + "running_mean", {channels}), w.get(prefix + "running_var", {channels})};
}

Result<std::unique_ptr<Wav2Clip>> Wav2Clip::create(const Wav2ClipConfig& c, WeightSource& w) {
    std::unique_ptr<Wav2Clip> m(new Wav2Clip());
    m->config_ = c;
    m->options_ = w.options();
    // The checkpoint keeps the window as a buffer; the reference fixtures store it rounded to
    // fp16 and computed with that, so a stored window wins over a freshly made one.
    m->window_ = w.getOptional(kEncoder + "spectrogram.window", {c.nFft});
    if (!m->window_.defined())
        m->window_ =
            at::hann_window(c.nFft, /*periodic=*/true, at::TensorOptions().dtype(at::kFloat));
    m->window_ = m->window_.to(m->options_.device, at::kFloat);
    const int64_t stem = c.widths.front();
    m->stem_ = w.get(kEncoder + "conv1.weight", {stem, 1, 7, 7});
    m->stemBn_ = loadNorm(kEncoder + "bn1.", stem, w);
    int64_t in = stem;
    for (size_t s = 0; s < c.widths.size(); ++s) {
        const int64_t width = c.widths[s];
        for (int64_t b = 0; b < c.blocks[s]; ++b) {
            const std::string p = stagePrefix(s, b);
            Block block;
            block.stride = (s > 0 && b == 0) ? 2 : 1;
            block.conv1 = w.get(p + "conv1.weight", {width, in, 3, 3});
            block.bn1 = loadNorm(p + "bn1.", width, w);
            block.conv2 = w.get(p + "conv2.weight", {width, width, 3, 3});
            block.bn2 = loadNorm(p + "bn2.", width, w);
            if (block.stride != 1 || in != width) {
                block.down = w.get(p + "downsample.0.weight", {width, in, 1, 1});
                block.downBn = loadNorm(p + "downsample.1.", width, w);
            }
            m->blocks_.push_back(std::move(block));
            in = width;
        }
    }
    for (size_t i = 0; i + 1 < c.mlp.size(); ++i) {
        const std::string p = kTransform + std::to_string(3 * i) + ".";
        m->mlp_.emplace_back(w.get(p + "weight", {c.mlp[i + 1], c.mlp[i]}),
                             w.get(p + "bias", {c.mlp[i + 1]}));
    }
    if (!w.ok()) return fail(ErrorCode::InvalidInput, w.error());
    return m;
}

Result<std::unique_ptr<Wav2Clip>> Wav2Clip::load(const std::string& path, ComputeOptions options) {
    std::error_code ec;
    const bool isDir = fs::is_directory(path, ec);
    const std::string weightsPath = isDir ? path + "/model.safetensors" : path;
    auto weights = FileWeights::open(weightsPath, options);
    ESPER_TRY(weights);
    Result<Wav2ClipConfig> config = fail("no configuration");
    if (auto text = isDir ? readTextFile(path + "/config.json") : fail("no config.json"))
        config = parseWav2ClipConfig(text.value(), path + "/config.json");
    else
        config = inferWav2ClipConfig(weights.value()->file());
    ESPER_TRY(config);
    return create(config.value(), *weights.value());
}

at::Tensor Wav2Clip::norm(const at::Tensor& x, const Norm& n) const {
    return at::batch_norm(x, n.weight, n.bias, n.mean, n.var, training_, 0.1, config_.batchNormEps,
                          /*cudnn_enabled=*/true);
}

at::Tensor Wav2Clip::spectrogram(const at::Tensor& waves) const {
    const auto x = waves.to(options_.device, at::kFloat);
    const auto spec = at::stft(x, config_.nFft, config_.hop, config_.nFft, window_,
                               /*center=*/true, "reflect", /*normalized=*/false,
                               /*onesided=*/true, /*return_complex=*/true);
    return at::abs(spec).pow(2);
}

Wav2ClipOutput Wav2Clip::encode(const at::Tensor& waves) const {
    Wav2ClipOutput out;
    out.spectrogram = spectrogram(waves);
    // The whole batch is standardised as one tensor, as the original does.
    at::Tensor x = at::log(out.spectrogram + 1e-7);
    x = (x - x.mean()) / (x.std() + 1e-9);
    x = x.unsqueeze(1).to(options_.dtype);
    x = at::relu(norm(at::conv2d(x, stem_, {}, 2, 3), stemBn_));
    x = at::max_pool2d(x, 3, 2, 1);
    for (const Block& b : blocks_) {
        at::Tensor y = at::relu(norm(at::conv2d(x, b.conv1, {}, b.stride, 1), b.bn1));
        y = norm(at::conv2d(y, b.conv2, {}, 1, 1), b.bn2);
        const at::Tensor identity =
            b.down.defined() ? norm(at::conv2d(x, b.down, {}, b.stride), b.downBn) : x;
        x = at::relu(y + identity);
    }
    out.features = at::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
    at::Tensor e = out.features;
    for (size_t i = 0; i < mlp_.size(); ++i) {
        e = at::linear(e, mlp_[i].first, mlp_[i].second);
        if (i + 1 < mlp_.size()) e = at::dropout(at::relu(e), config_.dropout, training_);
    }
    out.embedding = e;
    return out;
}

} // namespace esper
