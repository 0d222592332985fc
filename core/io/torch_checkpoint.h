// PyTorch checkpoints (.pt, .pth, .ckpt) read without executing anything: both formats torch.save
// writes (the ZIP archive of PyTorch 1.6 and later, and the legacy stream of pickles), through
// the restricted unpickler (pickle_machine.h). Tensors come out with their dtype, shape and
// bytes, whatever their storage offset, strides or sharing; everything else a checkpoint holds
// (optimizer state, hyper-parameters, other objects) is walked for tensors or listed as skipped,
// never rebuilt. Every storage and view is checked against the file before a byte is copied.
#pragma once

#include "io/safetensors.h"
#include "util/result.h"

#include <cstdint>
#include <string>
#include <vector>

namespace esper {

struct CheckpointTensor {
    std::string name; // its path in the checkpoint: "state_dict.model.0.weight", "layers.3"
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    std::string bytes; // contiguous, little-endian
};

struct TorchCheckpoint {
    std::string format; // "zip" or "legacy"
    std::vector<CheckpointTensor> tensors;
    // What was not rebuilt, with where it was: "argparse.Namespace at hyper_parameters.args".
    std::vector<std::string> skipped;
};

Result<TorchCheckpoint> readTorchCheckpoint(const std::string& path);
// The same from bytes already in memory; `origin` names them in errors.
Result<TorchCheckpoint> parseTorchCheckpoint(std::string_view bytes, const std::string& origin);
bool looksLikeTorchCheckpoint(std::string_view head);

// The model's weights: the tensors under "state_dict" (a Lightning checkpoint, or a dict that
// holds one) with that prefix taken off, else every tensor.
struct NamedTensor {
    std::string name;
    const CheckpointTensor* tensor;
};
std::vector<NamedTensor> stateDictOf(const TorchCheckpoint& checkpoint);

} // namespace esper
