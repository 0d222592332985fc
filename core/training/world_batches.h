// Batches drawn from the synthetic world for the trainers (engine internals: ATen tensors).
#pragma once

#include "world/scene.h"

#include <ATen/core/Tensor.h>
#include <vector>

namespace esper {

// Rendered and CLIP-preprocessed: [B, 3, size, size].
at::Tensor scenePixels(const std::vector<world::Scene>& scenes, int size);

} // namespace esper
