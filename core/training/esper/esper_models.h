// What ESPER's PPO trains and reads: the policy (the frozen LM behind the trainable mapper's
// prefix), the value model (its own mapper, its own trainable copy of the LM and a Linear(E→1)
// head, read where each response token is predicted), the reference policy (the frozen LM on
// the text alone) and CLIP (frozen; the reward). Their teacher-forced passes over a batch of
// sampled responses are here, so the rollout pass and the training pass are one code path.
#pragma once

#include "bundle/bundle_manifest.h"
#include "decode/response_scoring.h"
#include "models/causal_lm.h"
#include "scoring/clip_scorer.h"
#include "text/tokenizer.h"
#include "training/esper/esper_config.h"
#include "training/framework/adamw.h"
#include "training/framework/trainable_models.h"

#include <memory>
#include <optional>

namespace esper {

struct EsperModels {
    BundleManifest bundle;
    ComputeOptions compute;
    std::unique_ptr<ClipScorer> clip;
    std::unique_ptr<CausalLm> lm; // frozen: the policy's and the reference's
    std::unique_ptr<Tokenizer> tokenizer;
    TrainableMapper policy;
    // The value model, with the "gae" advantage only.
    TrainableMapper valueMapper;
    std::optional<TrainableLm> valueLm; // with train_value_lm; otherwise the frozen LM serves
    at::Tensor valueHeadWeight, valueHeadBias; // [1, E], [1]
    std::vector<int64_t> banned;               // end-of-text where it is banned
    bool banEos = true;
    int padId = 0; // fills the rows' padding (end-of-text when the vocabulary has it)

    // Loads START's models; the policy's mapper from START's unless `randomMapper`.
    static Result<EsperModels> load(const std::string& bundleDir, const std::string& modelsDir,
                                    const EsperConfig& config, bool randomMapper,
                                    const std::string& device, uint64_t seed);
    // Sets what the end-of-text rule implies (the bans, the padding id).
    void finish(const EsperConfig& config);
    // The optimizer's groups: the policy's mapper at the configured rate, the value model at
    // value_learning_rate.
    std::vector<ParamGroup> parameterGroups(const EsperConfig& config) const;

    at::Tensor policyPrefixes(const at::Tensor& features) const;
    // Each response token's log-probability under the policy (the bans applied) and the entropy
    // of the distribution it came from.
    ResponseScores policyScores(const at::Tensor& features, const ResponseBatch& batch) const;
    // V(s_t) for each response token t, read at the position that predicts it.
    at::Tensor values(const at::Tensor& features, const ResponseBatch& batch) const;
    // The reference policy: the frozen LM on the text alone.
    ResponseScores referenceScores(const ResponseBatch& batch) const;
};

} // namespace esper
