#include "training/world/world_batches.h"

#include "image/clip_preprocess.h"
#include "world/captions.h"

#include <ATen/ATen.h>

namespace esper {

at::Tensor scenePixels(const std::vector<world::Scene>& scenes, int size) {
    ClipPreprocessConfig pre;
    pre.size = size;
    at::Tensor out = at::empty({static_cast<int64_t>(scenes.size()), 3, size, size});
    for (size_t i = 0; i < scenes.size(); ++i) {
        const auto values = clipPreprocess(world::renderScene(scenes[i], size, size), pre);
        std::copy(values.begin(), values.end(), out[static_cast<int64_t>(i)].data_ptr<float>());
    }
    return out;
}

SceneTexts drawSceneTexts(uint64_t worldSeed, uint64_t trainScenes, int size, int twins,
                          std::mt19937_64& rng, world::TwinKind kind) {
    SceneTexts b;
    auto count = [&] { return static_cast<int>(b.scenes.size()); };
    while (count() < size) {
        b.scenes.push_back(world::generateScene(worldSeed, rng() % trainScenes));
        const auto& style = world::worldStyles()[rng() % world::worldStyles().size()];
        std::mt19937_64 sameWords = rng;
        b.texts.push_back(world::describeScene(b.scenes.back(), style, rng));
        if (twins <= 0 || count() == size) continue;
        auto twin = world::twinOf(b.scenes.back(), kind, rng);
        if (!twin) continue;
        auto text = world::describeScene(*twin, style, sameWords);
        if (text == b.texts.back()) continue; // the text does not say what changed
        --twins;
        b.scenes.push_back(std::move(*twin));
        b.texts.push_back(std::move(text));
    }
    return b;
}

} // namespace esper
