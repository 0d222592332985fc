// The project's own small CLIP, trained contrastively (InfoNCE with a learned temperature) on
// the synthetic world's (scene image, text) pairs: the stand-in for pretrained CLIP that no
// machine here can download. Saved as a Hugging Face folder the engine loads like any CLIP.
#pragma once

#include "training/train_loop.h"
#include "world/clip_probes.h"

#include <string>

namespace esper {

struct ClipPretrainOptions {
    std::string outDir;        // config.json, model.safetensors, tokenizer.model, train.jsonl
    std::string tokenizerPath; // a sentencepiece model; empty: train one on the world's text
    uint64_t worldSeed = 1;
    uint64_t trainScenes = 50000;    // scenes 0..N-1 of the world seed
    uint64_t heldOutFirst = 1000000; // evaluation scenes start here (never trained on)
    int imageSize = 64, patchSize = 8;
    int hidden = 128, layers = 4, heads = 4, projection = 64, contextLength = 48;
    int tokenizerVocab = 400;
    // From step twinsFrom on, `twins` scenes of each batch come with their twin (see
    // drawSceneTexts): the batch itself then asks which colour goes with which shape.
    // Late in training: from the first step, twins with one shape changed kept CLIP from
    // learning at all (24.8 % top-1 at 1,000 steps against 74.6 %). On the demo's recipe, 32
    // from step 2,000 of 3,000 took the binding pairs from 72 % to 88 %.
    int twins = 0, twinsFrom = 0;
    TrainSettings train;
};

struct ClipPretrainReport : TrainSummary { // seconds include the evaluations
    double retrievalTop1 = 0; // image -> text among `candidates` held-out captions, mean of groups
    int candidates = world::kRetrievalCandidates, groups = world::kRetrievalGroups;
    world::ClipAttributeProbe attributes; // on `probeScenes` held-out scenes
    int probeScenes = world::kProbeScenes;
};

Result<ClipPretrainReport> pretrainClip(const ClipPretrainOptions& options);
// Trains the sentencepiece tokenizer CLIP and the LM share on the text of scenes 0..scenes-1
// (the first 4,000 at most): DIR/tokenizer.model.
Result<void> trainWorldTokenizer(const std::string& dir, uint64_t worldSeed, uint64_t scenes,
                                 int vocab);

} // namespace esper
