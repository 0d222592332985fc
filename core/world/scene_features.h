// A scene's ground truth as a feature vector, in place of CLIP's image embedding: what a perfect
// image encoder could hand a mapper. Training a mapper on it measures the language model's side
// of captioning alone, apart from what CLIP sees.
#pragma once

#include "world/scene.h"

#include <ATen/core/Tensor.h>
#include <cstdint>
#include <vector>

namespace esper::world {

// One block of 16 values per object, in the scene's order: colour (8), shape (4) and size (2)
// one-hot, a flag saying the object exists, and a 0. Three objects need 48 values.
constexpr int64_t kGroundTruthFeatures = 48;

// [B, dim] with dim >= kGroundTruthFeatures (the rest zeros); set entries are 3, not 1 (below).
at::Tensor groundTruthFeatures(const std::vector<Scene>& scenes, int64_t dim);

} // namespace esper::world
