// One batch of ESPER's episodes, everything PPO's update reads: the images and queries drawn,
// the sampled responses, the teacher-forced old log-probabilities and values (recomputed at
// temperature 1 after sampling, in the chunks of the first epoch's minibatches, so that the
// first minibatch's probability ratio is exactly 1), the reference's log-probabilities, and the
// per-token rewards.
#pragma once

#include "decode/decode_workspace.h"

#include "training/esper/episode_images.h"
#include "training/esper/esper_models.h"
#include "training/esper/queries.h"
#include "training/esper/rollout_parts.h"
#include "training/framework/helper_thread.h"

#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace esper {

// The goal's scale: G = gain·cos + bias.
struct RewardScale {
    double gain = 0, bias = 0;
};

struct EpisodeBatch {
    std::vector<size_t> images; // per row
    std::vector<Query> queries;
    at::Tensor features;                 // [B, D] the rows' images, as the mapper reads them
    ResponseBatch batch;                 // the rows (query, response)
    at::Tensor mask;                     // [B, R]
    at::Tensor firstEpochOrder;          // [B] long: the first epoch's minibatch order
    at::Tensor oldLogprobs, refLogprobs; // [B, R] mask-padded
    at::Tensor oldValues;                // [B, R] 0 where masked
    at::Tensor rewards;                  // [B, R]
    at::Tensor groupAdvantages;          // [B, R] with the "group" advantage, else undefined
    std::vector<std::string> texts;      // the reward's text: init + response
    std::vector<double> cosines;         // CLIP image-text, per row
    std::vector<double> goals;           // what the goal measures, before its scale
    std::map<std::string, double> metrics;
};

struct RolloutPlan {
    int iteration = 0;
    bool fromReference = false; // sampled by the reference policy (a warm-up phase)
    bool useGoal = true;        // the CLIP goal counts (0 during the first iterations)
};

class EpisodeSampler {
public:
    // Computes this worker's parts of each batch (all of them alone) and puts the batch
    // together from every worker's.
    EpisodeSampler(const EsperConfig& config, EsperModels& models, EpisodeImages& images,
                   const QuerySampler& queries, HelperThread& helper, const RolloutParts& parts);

    // Draws images and queries, samples responses, and computes the old passes and rewards.
    Result<EpisodeBatch> sample(const RolloutPlan& plan, const RewardScale& scale,
                                std::mt19937_64& rng);
    // Draws and samples rows only, for the reward's calibration: the unscaled goals of the
    // starting policy's samples.
    Result<std::vector<double>> sampleGoals(std::mt19937_64& rng);

private:
    struct Drawn {
        std::vector<size_t> images;
        std::vector<Query> queries;
        at::Tensor features;
        std::vector<std::vector<int>> responses; // up to and with end-of-text
    };
    Result<Drawn> draw(bool fromReference, std::mt19937_64& rng);
    struct ClipScores {
        std::vector<double> cosines;     // each row's text with its image
        std::vector<double> contrastive; // scale·cos(own) - log Σ_batch's images exp(scale·cos)
    };
    // Each row's text against its (in the control, another row's) image and the batch's.
    Result<ClipScores> clipScores(const at::Tensor& features, const std::vector<size_t>& images,
                                  const std::vector<std::string>& texts) const;
    // The goal of each row before its scale, as config.goal says.
    std::vector<double> goals(const std::vector<size_t>& images,
                              const std::vector<std::string>& texts, const ClipScores& clip) const;
    std::vector<int> withoutEnd(const std::vector<int>& response) const;
    // work(p) for each of this worker's parts, the first half of them on the helper thread.
    void forMyParts(const std::function<void(int)>& work, bool parallel) const;
    // The responses of every worker's parts, each worker having filled its own.
    Result<void> shareResponses(std::vector<std::vector<int>>& responses) const;

    const EsperConfig& config_;
    EsperModels& models_;
    EpisodeImages& images_;
    const QuerySampler& queries_;
    HelperThread& helper_;
    const RolloutParts& parts_;
    // One per part (parts decode side by side): each part's batch keeps its shape from one
    // iteration to the next, so the fixed-shape loop's buffers and recorded step are reused.
    std::vector<DecodeWorkspace> workspaces_;
};

// A minibatch permutation of `rows` drawn with `rng` (Fisher-Yates on the engine's generator,
// identical on every machine).
at::Tensor drawPermutation(int64_t rows, std::mt19937_64& rng);

} // namespace esper
