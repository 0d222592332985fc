#include "world/clip_probes.h"

#include "scoring/clip_scorer.h"
#include "world/captions.h"

#include <nlohmann/json.hpp>

#include <array>
#include <random>
#include <vector>

namespace esper::world {

namespace {

struct Embedded {
    std::vector<Embedding> images, texts;
};

// Both probes embed a set of rendered scenes and a set of texts with the same CLIP.
Result<Embedded> embed(ClipScorer& scorer, const std::vector<RgbImage>& images,
                       const std::vector<std::string>& texts) {
    std::vector<const RgbImage*> ptrs;
    for (const auto& im : images)
        ptrs.push_back(&im);
    auto img = scorer.embedImages(ptrs);
    ESPER_TRY(img);
    auto txt = scorer.embedTexts(texts);
    ESPER_TRY(txt);
    return Embedded{std::move(img.value()), std::move(txt.value())};
}

Result<double> retrievalTop1(ClipScorer& scorer, uint64_t worldSeed, uint64_t firstScene,
                             int candidates, int imageSize, int groups) {
    std::mt19937_64 rng(worldSeed + 99);
    int correct = 0;
    for (int g = 0; g < groups; ++g) {
        std::vector<std::string> texts;
        std::vector<RgbImage> images;
        for (int i = 0; i < candidates; ++i) {
            const auto scene =
                generateScene(worldSeed, firstScene + static_cast<uint64_t>(g * candidates + i));
            texts.push_back(describeScene(scene, "caption", rng));
            images.push_back(renderScene(scene, imageSize, imageSize));
        }
        auto e = embed(scorer, images, texts);
        ESPER_TRY(e);
        for (int i = 0; i < candidates; ++i) {
            int best = 0;
            double bestScore = -2;
            for (int j = 0; j < candidates; ++j) {
                const double s = ClipScorer::cosine(e->images[static_cast<size_t>(i)],
                                                    e->texts[static_cast<size_t>(j)]);
                if (s > bestScore) {
                    bestScore = s;
                    best = j;
                }
            }
            correct += best == i;
        }
    }
    return double(correct) / (double(candidates) * std::max(groups, 1));
}

Result<ClipAttributeProbe> attributeProbe(ClipScorer& scorer, uint64_t worldSeed,
                                          uint64_t firstScene, int scenes, int imageSize) {
    std::mt19937_64 rng(worldSeed + 7);
    std::mt19937_64 swapRng(worldSeed + 8); // its own stream keeps the other pairs as they were
    constexpr int kBatch = 100;
    constexpr std::array<Attribute, 3> kProbed{Attribute::Shape, Attribute::Size, Attribute::Color};
    std::array<int, 3> closer{};
    int bindingCloser = 0, bindingScenes = 0;
    for (int first = 0; first < scenes; first += kBatch) {
        std::vector<RgbImage> images;
        // Per scene: the true text, one per attribute, then the swapped binding where one exists.
        std::vector<std::string> texts;
        std::vector<size_t> firstText;
        for (int i = first; i < std::min(scenes, first + kBatch); ++i) {
            const auto scene = generateScene(worldSeed, firstScene + static_cast<uint64_t>(i));
            images.push_back(renderScene(scene, imageSize, imageSize));
            firstText.push_back(texts.size());
            const size_t k = rng() % scene.objects.size();
            const auto wording = rng(); // the same template and synonyms for every text
            std::mt19937_64 words(wording);
            texts.push_back(describeScene(scene, "caption", words));
            for (size_t attribute = 0; attribute < kProbed.size(); ++attribute) {
                words.seed(wording);
                texts.push_back(describeScene(
                    withChangedAttribute(scene, k, kProbed[attribute], rng), "caption", words));
            }
            if (auto swapped = withSwappedShapes(scene, swapRng)) {
                words.seed(wording);
                texts.push_back(describeScene(*swapped, "caption", words));
            }
        }
        firstText.push_back(texts.size());
        auto e = embed(scorer, images, texts);
        ESPER_TRY(e);
        for (size_t i = 0; i < images.size(); ++i) {
            const auto& image = e->images[i];
            const size_t t = firstText[i];
            const double truth = ClipScorer::cosine(image, e->texts[t]);
            for (size_t a = 0; a < kProbed.size(); ++a)
                closer[a] += truth > ClipScorer::cosine(image, e->texts[t + 1 + a]);
            if (firstText[i + 1] > t + 1 + kProbed.size()) {
                ++bindingScenes;
                bindingCloser +=
                    truth > ClipScorer::cosine(image, e->texts[t + 1 + kProbed.size()]);
            }
        }
    }
    ClipAttributeProbe p;
    p.scenes = scenes;
    const double n = std::max(scenes, 1);
    p.shape = closer[0] / n;
    p.size = closer[1] / n;
    p.colour = closer[2] / n;
    p.bindingScenes = bindingScenes;
    p.binding = double(bindingCloser) / std::max(bindingScenes, 1);
    return p;
}

} // namespace

void addAttributeFields(nlohmann::ordered_json& out, const ClipAttributeProbe& probe,
                        const std::string& prefix) {
    out[prefix + "shape_pairs"] = probe.shape;
    out[prefix + "size_pairs"] = probe.size;
    out[prefix + "colour_pairs"] = probe.colour;
    out[prefix + "binding_pairs"] = probe.binding;
    out[prefix + "probe_scenes"] = probe.scenes;
    out[prefix + "binding_scenes"] = probe.bindingScenes;
}

Result<ClipProbes> probeClip(const std::string& clipDir, uint64_t worldSeed, uint64_t firstScene,
                             int imageSize) {
    auto scorer = ClipScorer::load(clipDir);
    ESPER_TRY(scorer);
    auto top1 = retrievalTop1(*scorer.value(), worldSeed, firstScene, kRetrievalCandidates,
                              imageSize, kRetrievalGroups);
    ESPER_TRY(top1);
    auto attributes =
        attributeProbe(*scorer.value(), worldSeed, firstScene, kProbeScenes, imageSize);
    ESPER_TRY(attributes);
    return ClipProbes{top1.value(), attributes.value()};
}

} // namespace esper::world
