// Batches drawn from the synthetic world for the trainers (engine internals: ATen tensors).
#pragma once

#include "world/scene.h"

#include <ATen/core/Tensor.h>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace esper {

// Rendered and CLIP-preprocessed: [B, 3, size, size].
at::Tensor scenePixels(const std::vector<world::Scene>& scenes, int size);

// CLIP's (image, text) pairs: `size` scenes drawn from 0..trainScenes-1, each with a text in a
// random style. The first `twins` scenes that have a twin of `kind` (world::twinOf) are each
// followed by it, described with the same template and words, so only what the twin changed
// tells the two pairs apart: random batches almost never ask that. A text that does not name
// what changed (a style that leaves sizes out) gets no twin.
struct SceneTexts {
    std::vector<world::Scene> scenes;
    std::vector<std::string> texts;
};
SceneTexts drawSceneTexts(uint64_t worldSeed, uint64_t trainScenes, int size, int twins,
                          std::mt19937_64& rng,
                          world::TwinKind kind = world::TwinKind::SwappedShapes);

} // namespace esper
