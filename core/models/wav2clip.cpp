#include "models/wav2clip.h"

#include "util/file_util.h"

#include <ATen/ATen.h>
#include <filesystem>

namespace esper {
namespace {
namespace fs = std::filesystem;
} // namespace

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
    m->window_ = w.getOptional(kWav2ClipEncoderPrefix + "spectrogram.window", {c.nFft});
    if (!m->window_.defined())
        m->window_ =
            at::hann_window(c.nFft, /*periodic=*/true, at::TensorOptions().dtype(at::kFloat));
    m->window_ = m->window_.to(m->options_.device, at::kFloat);
    const int64_t stem = c.widths.front();
    m->stem_ = w.get(kWav2ClipEncoderPrefix + "conv1.weight", {stem, 1, 7, 7});
    m->stemBn_ = loadNorm(kWav2ClipEncoderPrefix + "bn1.", stem, w);
    int64_t in = stem;
    for (size_t s = 0; s < c.widths.size(); ++s) {
        const int64_t width = c.widths[s];
        for (int64_t b = 0; b < c.blocks[s]; ++b) {
            const std::string p = wav2ClipStagePrefix(s, b);
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
        const std::string p = kWav2ClipTransformPrefix + std::to_string(3 * i) + ".";
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
