// An audio encoder for the synthetic world, trained the Wav2CLIP way: the Wav2CLIP network (a
// smaller ResNet than the release's, same front end) learns contrastively (InfoNCE with a learned
// temperature, both directions, plus a cosine term that pulls each sound onto its image) to put
// each scene's sound where a frozen CLIP puts the scene's image. A mapper trained on that CLIP's
// images then captions sounds it never heard.
#pragma once

#include "training/framework/train_loop.h"
#include "world/scene_sound.h"

#include <cstdint>
#include <string>
#include <vector>

namespace esper {

struct AudioPretrainOptions {
    std::string clipDir; // the frozen CLIP whose image space the sounds must land in
    std::string outDir;  // config.json, model.safetensors, train.jsonl
    uint64_t worldSeed = 1;
    uint64_t trainScenes = 50000;
    uint64_t heldOutFirst = 1000000;
    std::vector<int64_t> widths{16, 32, 64, 128};
    std::vector<int64_t> blocks{1, 1, 1, 1};
    int64_t mlpHidden = 128;
    // The InfoNCE loss ranks a scene's image first among the batch's; this weight adds
    // 1 - cos(sound, image) so that the sound also lands close to its image, which a mapper
    // reading the embedding needs more than a ranking (docs/audio.md).
    double alignWeight = 4.0;
    std::string initFrom; // an audio encoder folder to start from (same layout); empty: random
    world::SceneSoundOptions sound;
    TrainSettings train;
};

struct AudioPretrainReport : TrainSummary {
    // Held-out scenes: sound -> image top-1 among 100 (chance 1 %), mean over groups, and the
    // mean cosine between a scene's sound and image embeddings.
    double retrievalTop1 = 0;
    double meanCosine = 0;
    double clipFeatureNorm = 0; // written to config.json (Wav2ClipConfig::clipFeatureNorm)
};

Result<AudioPretrainReport> pretrainAudioEncoder(const AudioPretrainOptions& options);

} // namespace esper
