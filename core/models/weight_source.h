// Where model parameters come from: a safetensors file, or random values for benchmarks.
// Either way a missing or mis-shaped tensor is recorded as an error, not thrown.
#pragma once

#include "io/safetensors.h"
#include "models/device.h"

#include <ATen/core/Tensor.h>
#include <set>
#include <string>
#include <vector>

namespace esper {

class WeightSource {
public:
    virtual ~WeightSource() = default;
    // Returns the tensor on the target device/dtype, or an undefined tensor after recording why.
    at::Tensor get(const std::string& name, const std::vector<int64_t>& shape);
    // Like get, but an absent tensor is not an error.
    at::Tensor getOptional(const std::string& name, const std::vector<int64_t>& shape);
    bool has(const std::string& name) const { return contains(name); }
    const std::string& error() const { return error_; }
    bool ok() const { return error_.empty(); }
    void setError(const std::string& message) {
        if (error_.empty()) error_ = message;
    }
    const ComputeOptions& options() const { return options_; }
    // Whether the model's tensors will be trained: then they stay as given (LibTorch's tensors,
    // products and gradients), whatever faster form inference would hold them in.
    virtual bool trainable() const { return false; }

protected:
    explicit WeightSource(ComputeOptions options) : options_(options) {}
    virtual bool contains(const std::string& name) const = 0;
    // The stored tensor, in its stored dtype, and its shape; called only when contains().
    virtual at::Tensor fetch(const std::string& name, const std::vector<int64_t>& shape) = 0;
    virtual std::string origin() const = 0;

private:
    ComputeOptions options_;
    std::string error_;
};

class FileWeights : public WeightSource {
public:
    // Keys are looked up as given, then with `prefix` prepended (e.g. "transformer.").
    static Result<std::unique_ptr<FileWeights>> open(const std::string& path,
                                                     ComputeOptions options);
    void setAlternativePrefix(std::string prefix) { prefix_ = std::move(prefix); }
    const SafetensorsFile& file() const { return file_; }

protected:
    bool contains(const std::string& name) const override;
    at::Tensor fetch(const std::string& name, const std::vector<int64_t>& shape) override;
    std::string origin() const override { return file_.path(); }

private:
    FileWeights(SafetensorsFile file, ComputeOptions options)
        : WeightSource(options), file_(std::move(file)) {}
    const TensorInfo* lookup(const std::string& name) const;
    SafetensorsFile file_;
    std::string prefix_;
};

// Random normal(0, 0.02) weights; LayerNorm-like 1-D tensors named "*weight" get ones so that
// activations keep a realistic scale. For speed measurements only.
class RandomWeights : public WeightSource {
public:
    RandomWeights(ComputeOptions options, uint64_t seed);

protected:
    bool contains(const std::string&) const override { return true; }
    at::Tensor fetch(const std::string& name, const std::vector<int64_t>& shape) override;
    std::string origin() const override { return "random weights"; }
};

// A tensor that aliases a safetensors file's bytes (copied only when misaligned).
at::Tensor tensorFromFile(const SafetensorsFile& file, const TensorInfo& info);

} // namespace esper
