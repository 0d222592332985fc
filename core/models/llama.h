// LLaMA-family decoders (TinyLlama and kin) as Hugging Face's LlamaForCausalLM computes them:
// RMSNorm, rotary positions computed in fp32, grouped-query attention, SwiGLU.
#pragma once

#include "models/causal_lm.h"
#include "models/packed_linear.h"
#include "models/weight_source.h"

namespace esper {

class LlamaModel : public CausalLm {
public:
    static Result<std::unique_ptr<LlamaModel>> create(const LlamaConfig& config, WeightSource& w);

    at::Tensor embed(const at::Tensor& ids) const override;
    at::Tensor hidden(const LmInput& input, KvCache* cache) const override;
    at::Tensor logitsOf(const at::Tensor& hidden) const override;
    int64_t hiddenSize() const override { return config_.hidden; }
    int64_t vocabSize() const override { return config_.vocabSize; }
    int64_t maxPositions() const override { return config_.maxPositions; }
    std::vector<int64_t> eosTokenIds() const override { return config_.eosTokenIds; }
    const ComputeOptions& options() const override { return options_; }

private:
    struct Layer {
        at::Tensor inNorm, postNorm, q, qB, k, kB, v, vB, o, oB, gate, gateB, up, upB, down, downB;
        // Set for compressed weights (WeightFormat), in place of the dense matrices.
        std::shared_ptr<const PackedLinear> qP, kP, vP, oP, gateP, upP, downP;
    };
    void packWeights(WeightFormat format);
    at::Tensor rmsNorm(const at::Tensor& x, const at::Tensor& w) const;
    LlamaConfig config_;
    ComputeOptions options_;
    at::Tensor embed_, norm_, head_, invFreq_;
    std::shared_ptr<const PackedLinear> headP_;
    std::vector<Layer> layers_;
};

} // namespace esper
