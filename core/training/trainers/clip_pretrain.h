// The project's own small CLIP, trained contrastively (InfoNCE with a learned temperature) on
// the synthetic world's (scene image, text) pairs: the stand-in for pretrained CLIP that no
// machine here can download. Saved as a Hugging Face folder the engine loads like any CLIP.
#pragma once

#include "training/framework/train_loop.h"
#include "world/clip_probes.h"
#include "world/scene.h"

#include <functional>
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
    // Weights start N(0, initStd) (config.json's initializer_range): GPT-2's 0.02 suits widths
    // near 768, and a CLIP this narrow then learns late (docs/world.md, "What we tried").
    double initStd = 0.06;
    // From step twinsFrom on, `twins` scenes of each batch come with their twin (see
    // drawSceneTexts): the batch itself then asks which colour goes with which shape.
    // Late in training, because twins from the first step keep CLIP from learning shapes at
    // all. They raise the binding or size probes but not a mapper's F1, so the demo's recipe
    // uses none (docs/world.md, "What we tried").
    int twins = 0, twinsFrom = 0;
    world::TwinKind twinKind = world::TwinKind::SwappedShapes;
    // Asked before each step: whether a second core is free for it (empty: whether the machine
    // has one). The answer changes the speed, never the result.
    std::function<bool()> secondCoreFree;
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
