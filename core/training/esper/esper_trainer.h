// ESPER (Yu et al., arXiv 2205.12630) as the official lightning.py trains it: PPO aligns a
// frozen language model with CLIP through the mapper's prefix, with CLIP's image-text cosine as
// the reward and no paired captions at all. Starts from a bundle (its CLIP, its LM and, unless
// told otherwise, its mapper) and writes a complete bundle.
#pragma once

#include "image/rgb_image.h"
#include "training/esper/esper_config.h"
#include "training/framework/train_loop.h"
#include "util/result.h"

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace esper {

class Collectives;

// One of the policy's greedy captions, shown while a run trains.
struct PreviewCaption {
    std::string image; // the file, or "scene N" of the world
    std::string style; // the trained style; empty for ESPER-Free
    std::string text;
};

struct EsperTrainOptions {
    std::string bundleDir; // START: CLIP, the LM and the starting mapper
    std::string outDir;    // OUT: the trained bundle
    std::string modelsDir; // where START's model ids resolve (default: defaultModelsDir())
    EsperConfig config;
    bool randomMapper = false; // start from PyTorch's initialisation, not START's mapper

    // The images: the synthetic world's scenes worldFirst .. worldFirst + worldScenes - 1, or
    // image files the caller decodes.
    bool world = false;
    uint64_t worldSeed = 1, worldFirst = 0, worldScenes = 50000;
    uint64_t heldOutFirst = 1000000; // evaluation scenes (eval_every)
    std::vector<std::string> imagePaths;
    std::function<Result<RgbImage>(const std::string&)> decodeImage;

    int iterations = 0;         // stop after this many (0: at the schedule's end)
    double minutes = 0;         // or after this much time (0: no limit)
    std::string logPath;        // default OUT/esper-train.jsonl
    std::string checkpointPath; // default OUT/esper-checkpoint.safetensors
    int checkpointEvery = 25;
    bool resume = false;
    std::string device = "cpu";
    uint64_t seed = 1;
    const std::atomic<bool>* cancel = nullptr;
    // Data-parallel training: the workers of one run (distributed/collectives.h), each started
    // with the same options. Each computes its share of the config's parts of every batch and
    // minibatch; the gradients are summed before each step. Worker 0 alone writes the log, the
    // checkpoints and the bundle, previews and evaluates; every worker reads the checkpoint on
    // resume, so a run may resume with another number of workers (one that divides `parts`).
    Collectives* workers = nullptr;
    std::function<void(const std::string&)> onMessage; // stages and warnings, one line each
    // After each iteration: (finished, the iteration the run ends at or 0 when a time budget
    // ends it, seconds left, that iteration's metrics).
    std::function<void(int, int, double, const std::map<std::string, double>&)> onIteration;
    // Before the first iteration, every `previewEvery` iterations and at the end: the policy's
    // greedy captions (the bundle's decoding) of the first `previewImages` images in each
    // trained style, so progress shows in words.
    int previewEvery = 0;
    int previewImages = 4;
    std::function<void(int iteration, const std::vector<PreviewCaption>&)> onPreview;
};

struct EsperTrainReport : TrainSummary {
    int iterations = 0;
    int64_t episodes = 0;
    double episodesPerSecond = 0;
    double rewardGain = 0, rewardBias = 0;                 // the goal's scale (given or calibrated)
    std::optional<double> calibrationMean, calibrationStd; // when calibrated
    // World: greedy `caption:` object F1 on held-out scenes, before the first iteration (not on
    // resume) and at the end.
    std::optional<double> evalF1Start, evalF1;
    std::vector<std::string> skippedImages; // "path: why"
};

Result<EsperTrainReport> trainEsper(const EsperTrainOptions& options);

} // namespace esper
