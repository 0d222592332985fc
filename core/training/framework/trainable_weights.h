// Parameters for training with the same model classes that load Hugging Face files: each tensor
// a model asks for is created (initialised as the reference implementations do) and kept, so the
// optimizer can update it and the checkpoint writer can save it under the model's own key names.
#pragma once

#include "models/weight_source.h"

#include <ATen/core/Generator.h>

#include <map>
#include <string>
#include <vector>

namespace esper {

class TrainableWeights final : public WeightSource {
public:
    TrainableWeights(ComputeOptions options, uint64_t seed, double initStd = 0.02);

    std::vector<at::Tensor> parameters() const;
    const std::map<std::string, at::Tensor>& named() const { return params_; }
    // model.safetensors in the layout the loaders read (keys as the model asked for them).
    Result<void> save(const std::string& path,
                      const std::map<std::string, std::string>& metadata = {}) const;
    // A Hugging Face model folder: DIR/model.safetensors and DIR/config.json (`configJson`).
    Result<void> saveModelFolder(const std::string& dir, const std::string& configJson,
                                 const std::string& producedBy) const;
    // Copies values from a checkpoint into the parameters (resume); every parameter must be there.
    Result<void> loadValues(const std::string& path);
    bool trainable() const override { return true; }

protected:
    bool contains(const std::string&) const override { return true; }
    at::Tensor fetch(const std::string& name, const std::vector<int64_t>& shape) override;
    std::string origin() const override { return "trainable parameters"; }

private:
    // Its own generator, not the global one: two models initialised on two threads (the demo
    // build trains CLIP and the LM side by side) still get the same weights for a seed.
    at::Generator generator_;
    double initStd_;
    std::map<std::string, at::Tensor> params_;
};

} // namespace esper
