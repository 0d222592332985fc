// Wav2CLIP's layout: the spectrogram's settings, the ResNet's widths and depths, the MLP into
// CLIP's space, as config.json holds them or as a state dict's tensor names and shapes imply.
// Free of LibTorch, so the importer in the base library writes it.
#pragma once

#include "io/safetensors.h"
#include "util/result.h"

#include <cstdint>
#include <string>
#include <vector>

namespace esper {

struct Wav2ClipConfig {
    int64_t nFft = 512, hop = 353;
    int sampleRate = 16000;
    std::vector<int64_t> widths{64, 128, 256, 512}; // per ResNet stage
    std::vector<int64_t> blocks{2, 2, 2, 2};        // BasicBlocks per stage
    std::vector<int64_t> mlp{512, 512, 512};        // units of audio_transform; empty: none
    double batchNormEps = 1e-5;
    double dropout = 0.1; // in training only
    // The mean norm of the CLIP image features a mapper was trained on, when known (> 0). An
    // encoder trained contrastively agrees with CLIP in direction only, and a mapper reads
    // unnormalised features, so captioning scales each embedding to this norm.
    double clipFeatureNorm = 0;

    int64_t embeddingSize() const { return mlp.empty() ? widths.back() : mlp.back(); }
    std::string json() const; // config.json for a folder of this model
};

// config.json of a Wav2CLIP folder ({"model_type": "wav2clip", ...}).
Result<Wav2ClipConfig> parseWav2ClipConfig(const std::string& json, const std::string& origin);
// The layout a safetensors file's tensor names and shapes imply.
Result<Wav2ClipConfig> inferWav2ClipConfig(const SafetensorsFile& file);
// Whether DIR holds a Wav2CLIP model: config.json says so, or model.safetensors has its keys.
bool isWav2ClipFolder(const std::string& dir);

// The names the released checkpoint gives the encoder's tensors.
extern const std::string kWav2ClipEncoderPrefix;   // "audio_encoder."
extern const std::string kWav2ClipTransformPrefix; // "audio_transform.sequential."
std::string wav2ClipStagePrefix(size_t stage, int64_t block);

} // namespace esper
