// Wav2CLIP (Wu et al., 2022; descriptinc/lyrebird-wav2clip): sound into CLIP's image-embedding
// space. A power spectrogram (torchaudio's Spectrogram: n_fft 512, hop 353, periodic Hann,
// centred with reflect padding), log(x + 1e-7), standardised by the mean and unbiased std of the
// whole batch tensor, a ResNet on one input channel (BatchNorm with running statistics at
// inference), adaptive average pooling, then the MLP (Linear, ReLU, Dropout, Linear) into CLIP's
// space. Weights under the released checkpoint's own names (`audio_encoder.*`,
// `audio_transform.sequential.*`); the network's widths and depths come from config.json or,
// where there is none (a converted release checkpoint), from the tensors themselves.
#pragma once

#include "models/wav2clip_config.h"
#include "models/weight_source.h"

#include <memory>
#include <string>
#include <vector>

namespace esper {

struct Wav2ClipOutput {
    at::Tensor spectrogram; // [B, n_fft/2 + 1, frames], power
    at::Tensor features;    // [B, widths.back()] the ResNet's pooled output
    at::Tensor embedding;   // [B, embeddingSize()] in CLIP's image-embedding space
};

class Wav2Clip {
public:
    static Result<std::unique_ptr<Wav2Clip>> create(const Wav2ClipConfig& config,
                                                    WeightSource& weights);
    // DIR/model.safetensors (+ DIR/config.json), or a .safetensors file itself.
    static Result<std::unique_ptr<Wav2Clip>> load(const std::string& path, ComputeOptions options);

    // waves [B, samples] at config().sampleRate. Clips of one batch share the standardisation,
    // as in the original: the same clip encoded alone and in a batch differs.
    Wav2ClipOutput encode(const at::Tensor& waves) const;
    at::Tensor spectrogram(const at::Tensor& waves) const;
    // The fewest samples a clip needs (reflect padding needs more than n_fft / 2).
    int64_t minimumSamples() const { return config_.nFft / 2 + 1; }

    // Training mode: BatchNorm on batch statistics (updating the running ones) and dropout.
    void setTraining(bool training) { training_ = training; }
    const Wav2ClipConfig& config() const { return config_; }
    const ComputeOptions& options() const { return options_; }

private:
    struct Norm {
        at::Tensor weight, bias, mean, var;
    };
    struct Block {
        at::Tensor conv1, conv2, down;
        Norm bn1, bn2, downBn;
        int64_t stride = 1;
    };
    at::Tensor norm(const at::Tensor& x, const Norm& n) const;
    static Norm loadNorm(const std::string& prefix, int64_t channels, WeightSource& w);

    Wav2ClipConfig config_;
    ComputeOptions options_;
    at::Tensor window_, stem_;
    Norm stemBn_;
    std::vector<Block> blocks_;
    std::vector<std::pair<at::Tensor, at::Tensor>> mlp_; // (weight, bias) per Linear
    bool training_ = false;
};

} // namespace esper
