// GPT-2 (gpt2, -medium, -large, distilgpt2) as Hugging Face's GPT2LMHeadModel computes it.
#pragma once

#include "models/causal_lm.h"
#include "models/packed_linear.h"
#include "models/weight_source.h"

namespace esper {

class Gpt2Model : public CausalLm {
public:
    // Keys with or without the `transformer.` prefix; attn.bias / masked_bias buffers ignored.
    static Result<std::unique_ptr<Gpt2Model>> create(const Gpt2Config& config, WeightSource& w);

    at::Tensor embed(const at::Tensor& ids) const override;
    at::Tensor hidden(const LmInput& input, KvCache* cache) const override;
    at::Tensor logitsOf(const at::Tensor& hidden) const override;
    int64_t hiddenSize() const override { return config_.embd; }
    int64_t vocabSize() const override { return config_.vocabSize; }
    int64_t maxPositions() const override { return config_.positions; }
    std::vector<int64_t> eosTokenIds() const override { return {config_.eosTokenId}; }
    const ComputeOptions& options() const override { return options_; }

private:
    struct Block {
        at::Tensor ln1W, ln1B, attnW, attnB, projW, projB, ln2W, ln2B, fcW, fcB, outW, outB;
        // Set for compressed weights (WeightFormat), in place of the dense matrices.
        std::shared_ptr<const PackedLinear> attn, proj, fc, out;
    };
    void packWeights(WeightFormat format);
    Gpt2Config config_;
    ComputeOptions options_;
    at::Tensor wte_, wpe_, lnfW_, lnfB_;
    std::shared_ptr<const PackedLinear> head_; // the tied head, compressed
    std::vector<Block> blocks_;
};

} // namespace esper
