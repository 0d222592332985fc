#include "training/world/scene_feature_cache.h"

#include "models/clip.h"
#include "training/world/world_batches.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

namespace esper {

SceneFeatureCache::SceneFeatureCache(const ClipModel& clip, int imageSize)
    : clip_(clip), imageSize_(imageSize) {}

at::Tensor SceneFeatureCache::features(const std::vector<world::Scene>& scenes) {
    c10::NoGradGuard noGrad;
    std::vector<world::Scene> missing;
    for (const auto& scene : scenes)
        if (!rowOf_.count(scene.id)) {
            rowOf_.emplace(scene.id, rows_.size() + missing.size());
            missing.push_back(scene);
        }
    if (!missing.empty()) {
        // One batch for the new scenes; each row is a view of it, and every row is kept.
        const at::Tensor encoded = clip_.encodeImage(scenePixels(missing, imageSize_)).features;
        for (int64_t i = 0; i < encoded.size(0); ++i)
            rows_.push_back(encoded[i]);
    }
    std::vector<at::Tensor> picked;
    picked.reserve(scenes.size());
    for (const auto& scene : scenes)
        picked.push_back(rows_[rowOf_.at(scene.id)]);
    return at::stack(picked);
}

} // namespace esper
