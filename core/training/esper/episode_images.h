// The images ESPER learns from, as CLIP image features (what the mapper reads and the reward
// compares captions with), computed once per image: the synthetic world's scenes, or the user's
// own images, which the caller decodes (the engine reads no image files).
#pragma once

#include "image/rgb_image.h"
#include "util/result.h"
#include "world/scene.h"

#include <ATen/core/Tensor.h>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace esper {

class ClipScorer;
class HelperThread;

class EpisodeImages {
public:
    virtual ~EpisodeImages() = default;
    virtual size_t size() const = 0;
    // CLIP's features [N, D] of images `indices`, unnormalised (float, CPU).
    virtual Result<at::Tensor> features(const std::vector<size_t>& indices) = 0;
    virtual std::string name(size_t index) const = 0;
    // The world scene behind image `index`, when the images are the synthetic world's.
    virtual const world::Scene* scene(size_t) const { return nullptr; }
};

// Scenes first .. first+count-1 of the world with `seed`, drawn at CLIP's resolution. With a
// helper thread, the scenes not yet seen are drawn and encoded in two halves side by side.
std::unique_ptr<EpisodeImages> worldImages(ClipScorer& clip, uint64_t seed, uint64_t first,
                                           uint64_t count, int imageSize,
                                           HelperThread* helper = nullptr);

struct ImageFileProblem {
    std::string path, why;
};
// The images at `paths`, each decoded by `decode` and encoded once, up front, in batches of 32
// (`onProgress(done, total)` after each). An image that cannot be decoded is left out and named
// in `problems`; none readable is an error that says so.
Result<std::unique_ptr<EpisodeImages>>
encodedImages(ClipScorer& clip, const std::vector<std::string>& paths,
              const std::function<Result<RgbImage>(const std::string&)>& decode,
              std::vector<ImageFileProblem>& problems,
              const std::function<void(size_t, size_t)>& onProgress = {});

} // namespace esper
