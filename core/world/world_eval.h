// How well a bundle captions the synthetic world: held-out scenes captioned in each style and
// read back by the caption checker (objects, sizes, relations against the ground truth), with
// CLIP-S and BLEU-4 / CIDEr-D against the world's own reference texts of that style.
#pragma once

#include "util/result.h"
#include "world/clip_probes.h"
#include "world/lm_probes.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace esper::world {

// What the captions are made from: the scene's image, or its sound (world/scene_sound.h)
// through the bundle's audio encoder.
enum class Modality { Image, Audio };

struct WorldEvalOptions {
    std::string bundleDir;
    std::string device = "cpu", dtype = "fp32";
    uint64_t worldSeed = 1;
    uint64_t firstScene = 1000000; // held out: the trainers never draw scenes from here on
    int scenes = 200;
    std::vector<std::string> styles; // empty: the bundle's styles
    int referencesPerStyle = 5;      // world texts per scene and style for BLEU / CIDEr
    int imageSize = 64;
    Modality modality = Modality::Image;
    // When set, the bundle's CLIP folder, probed on the same held-out scenes (retrieval among
    // 100 and which attributes it tells apart): what any mapper on it can hope to say.
    std::string clipDir;
    // When set, the bundle's world LM, given a text about each held-out scene and asked for a
    // `caption:` (kCopyScenes scenes): the mark a mapper on that frozen LM is read against.
    std::string lmDir;
    std::function<void(int done, int total)> onProgress;
    const std::atomic<bool>* cancel = nullptr;
};

struct WorldStyleScores {
    std::string style;
    double precision = 0, recall = 0, f1 = 0; // objects (colour + shape), mean over scenes
    double sizeAccuracy = 0;                  // of the sizes the captions state
    double relationAccuracy = 0;              // of the relations the captions state
    int sizesStated = 0, relationsStated = 0;
    double mispaired = 0; // share of the objects the captions name (CaptionCheck::mispaired)
    int objectsStated = 0;
    double clipS = 0; // mean CLIP-S (2.5 * max(cos, 0)) with the bundle's CLIP
    double bleu4 = 0, cider = 0;
    // Object F1 over the scenes with one, two and three objects. A caption that names the right
    // colours and shapes but pairs them at random scores about 1, 1/2 and 1/3.
    std::array<double, 3> f1ByObjects{};
};

struct WorldSceneCaptions {
    uint64_t scene = 0;
    std::vector<std::string> captions; // in the order of the report's styles
    std::vector<double> f1;
};

struct WorldEvalReport {
    int scenes = 0;
    Modality modality = Modality::Image;
    std::array<int, 3> scenesByObjects{}; // how many of them hold one, two and three objects
    std::vector<WorldStyleScores> styles;
    std::vector<WorldSceneCaptions> perScene;
    std::optional<ClipProbes> clip;    // with WorldEvalOptions::clipDir
    std::optional<LmCopyProbe> lmCopy; // with WorldEvalOptions::lmDir
    double seconds = 0;

    // Scores of every style averaged with equal weight.
    WorldStyleScores mean() const;
    // {scenes, seconds, styles: {style: {...}}, mean: {...}, clip?, lm?}
    std::string json() const;
    std::string table() const;
};

Result<WorldEvalReport> evaluateOnWorld(const WorldEvalOptions& options);

} // namespace esper::world
