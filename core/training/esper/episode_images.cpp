#include "training/esper/episode_images.h"

#include "scoring/clip_scorer.h"
#include "training/framework/helper_thread.h"

#include <ATen/ATen.h>
#include <unordered_map>

namespace esper {
namespace {

at::Tensor stackRows(const std::vector<const std::vector<float>*>& rows) {
    const int64_t n = static_cast<int64_t>(rows.size());
    const int64_t d = rows.empty() ? 0 : static_cast<int64_t>(rows[0]->size());
    at::Tensor out = at::empty({n, d});
    float* data = out.data_ptr<float>();
    for (int64_t i = 0; i < n; ++i)
        std::copy(rows[size_t(i)]->begin(), rows[size_t(i)]->end(), data + i * d);
    return out;
}

class WorldImages final : public EpisodeImages {
    static constexpr size_t kBlock = 32;

public:
    WorldImages(ClipScorer& clip, uint64_t seed, uint64_t first, uint64_t count, int imageSize,
                HelperThread* helper)
        : clip_(clip), seed_(seed), first_(first), count_(count), imageSize_(imageSize),
          helper_(helper) {}
    size_t size() const override { return count_; }
    std::string name(size_t i) const override {
        return "scene " + std::to_string(first_ + i) + " of world " + std::to_string(seed_);
    }
    const world::Scene* scene(size_t i) const override {
        auto it = scenes_.find(i);
        if (it == scenes_.end())
            it = scenes_.emplace(i, world::generateScene(seed_, first_ + i)).first;
        return &it->second;
    }
    Result<at::Tensor> features(const std::vector<size_t>& indices) override {
        // Scenes are encoded in fixed blocks of kBlock (each half of a block on its own thread
        // where there is a helper), whenever one of the block's scenes is first needed: a
        // scene's features then never depend on which other scenes happened to be encoded with
        // it (the BLAS takes other paths for other batch sizes), so a resumed run sees the
        // numbers the uninterrupted one saw.
        std::vector<size_t> blocks;
        for (size_t i : indices) {
            const size_t block = i / kBlock;
            if (!features_.count(i) &&
                std::find(blocks.begin(), blocks.end(), block) == blocks.end())
                blocks.push_back(block);
        }
        for (size_t block : blocks) {
            const size_t from = block * kBlock, to = std::min<size_t>(from + kBlock, count_);
            // The scenes are generated here: the cache of scenes is not shared between threads.
            std::vector<const world::Scene*> scenes;
            for (size_t i = from; i < to; ++i)
                scenes.push_back(scene(i));
            const size_t half = (scenes.size() + 1) / 2;
            Result<std::vector<std::vector<float>>> parts[2] = {std::vector<std::vector<float>>{},
                                                                std::vector<std::vector<float>>{}};
            auto encode = [&](int h) {
                std::vector<RgbImage> images;
                for (size_t k = h == 0 ? 0 : half; k < (h == 0 ? half : scenes.size()); ++k)
                    images.push_back(world::renderScene(*scenes[k], imageSize_, imageSize_));
                std::vector<const RgbImage*> pointers;
                for (const auto& image : images)
                    pointers.push_back(&image);
                if (!pointers.empty()) parts[h] = clip_.imageFeatures(pointers);
            };
            if (helper_)
                helper_->runBeside([&] { encode(0); }, [&] { encode(1); });
            else {
                encode(0);
                encode(1);
            }
            for (int h = 0; h < 2; ++h) {
                ESPER_TRY(parts[h]);
                for (size_t k = 0; k < parts[h]->size(); ++k)
                    features_[from + (h == 0 ? 0 : half) + k] = std::move(parts[h].value()[k]);
            }
        }
        std::vector<const std::vector<float>*> rows;
        for (size_t i : indices)
            rows.push_back(&features_.at(i));
        return stackRows(rows);
    }

private:
    ClipScorer& clip_;
    uint64_t seed_, first_, count_;
    int imageSize_;
    HelperThread* helper_;
    mutable std::unordered_map<size_t, world::Scene> scenes_;
    std::unordered_map<size_t, std::vector<float>> features_;
};

class EncodedImages final : public EpisodeImages {
public:
    size_t size() const override { return rows_.size(); }
    std::string name(size_t i) const override { return names_[i]; }
    Result<at::Tensor> features(const std::vector<size_t>& indices) override {
        std::vector<const std::vector<float>*> rows;
        for (size_t i : indices)
            rows.push_back(&rows_[i]);
        return stackRows(rows);
    }
    std::vector<std::vector<float>> rows_;
    std::vector<std::string> names_;
};

} // namespace

std::unique_ptr<EpisodeImages> worldImages(ClipScorer& clip, uint64_t seed, uint64_t first,
                                           uint64_t count, int imageSize, HelperThread* helper) {
    return std::make_unique<WorldImages>(clip, seed, first, count, imageSize, helper);
}

Result<std::unique_ptr<EpisodeImages>>
encodedImages(ClipScorer& clip, const std::vector<std::string>& paths,
              const std::function<Result<RgbImage>(const std::string&)>& decode,
              std::vector<ImageFileProblem>& problems,
              const std::function<void(size_t, size_t)>& onProgress) {
    auto out = std::make_unique<EncodedImages>();
    constexpr size_t kBatch = 32;
    for (size_t start = 0; start < paths.size(); start += kBatch) {
        std::vector<RgbImage> images;
        std::vector<std::string> names;
        for (size_t i = start; i < std::min(paths.size(), start + kBatch); ++i) {
            auto image = decode(paths[i]);
            if (!image) {
                problems.push_back({paths[i], image.error()});
                continue;
            }
            images.push_back(std::move(image.value()));
            names.push_back(paths[i]);
        }
        std::vector<const RgbImage*> pointers;
        for (const auto& image : images)
            pointers.push_back(&image);
        if (!pointers.empty()) {
            auto encoded = clip.imageFeatures(pointers);
            ESPER_TRY(encoded);
            for (size_t k = 0; k < names.size(); ++k) {
                out->rows_.push_back(std::move(encoded.value()[k]));
                out->names_.push_back(names[k]);
            }
        }
        if (onProgress) onProgress(std::min(paths.size(), start + kBatch), paths.size());
    }
    if (out->rows_.empty())
        return fail(paths.empty() ? "there are no images to learn from"
                                  : "none of the " + std::to_string(paths.size()) +
                                        " images could be read (the first: " + problems[0].path +
                                        ": " + problems[0].why + ")");
    return std::unique_ptr<EpisodeImages>(std::move(out));
}

} // namespace esper
