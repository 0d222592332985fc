#include "training/world_batches.h"

#include "image/clip_preprocess.h"

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

} // namespace esper
