// A frozen CLIP's image features of the world's training scenes, kept by scene index: trainers
// that draw batches from a fixed set of scenes (the supervised mapper draws 192,000 from 50,000,
// so three in four repeat) render and encode each scene once. Encoding was half of a mapper step.
#pragma once

#include "world/scene.h"

#include <ATen/core/Tensor.h>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace esper {

class ClipModel;

class SceneFeatureCache {
public:
    // `clip` must outlive the cache and stay frozen: a feature is computed once.
    SceneFeatureCache(const ClipModel& clip, int imageSize);
    // [N, D] features of `scenes`, which must be the world's own (as generateScene made them,
    // for one world seed): a scene is known by its index alone.
    at::Tensor features(const std::vector<world::Scene>& scenes);
    size_t size() const { return rows_.size(); }

private:
    const ClipModel& clip_;
    int imageSize_;
    std::unordered_map<uint64_t, size_t> rowOf_; // scene index -> rows_
    std::vector<at::Tensor> rows_;               // [D] each
};

} // namespace esper
