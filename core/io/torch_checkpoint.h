// PyTorch checkpoints (.pt, .pth, .ckpt) read without executing anything: both formats torch.save
// writes (the ZIP archive of PyTorch 1.6 and later, and the legacy stream of pickles), through
// the restricted unpickler (pickle_machine.h). Tensors come out with their dtype, shape and
// bytes, whatever their storage offset, strides or sharing; everything else a checkpoint holds
// (optimizer state, hyper-parameters, other objects) is walked for tensors or listed as skipped,
// never rebuilt. Every storage and view is checked against the file before a byte is copied.
#pragma once

#include "io/safetensors.h"
#include "util/result.h"

#include "io/mapped_file.h"

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace esper {

struct CheckpointTensor {
    std::string name; // its path in the checkpoint: "state_dict.model.0.weight", "layers.3"
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    // Contiguous, little-endian: in place in the file when the tensor is stored that way (the
    // usual case, so a checkpoint is not copied into memory a second time), else in `owned`.
    std::string_view bytes;
};

struct TorchCheckpoint {
    // Moved, never copied: the tensors' bytes may point into `owned`.
    TorchCheckpoint() = default;
    TorchCheckpoint(TorchCheckpoint&&) = default;
    TorchCheckpoint& operator=(TorchCheckpoint&&) = default;
    TorchCheckpoint(const TorchCheckpoint&) = delete;
    TorchCheckpoint& operator=(const TorchCheckpoint&) = delete;

    std::string format; // "zip" or "legacy"
    std::vector<CheckpointTensor> tensors;
    // What was not rebuilt, with where it was: "argparse.Namespace at hyper_parameters.args".
    std::vector<std::string> skipped;
    // What the tensors' bytes point into: the mapped file, and the copies of strided views.
    std::shared_ptr<const MappedFile> file;
    std::deque<std::string> owned;
};

Result<TorchCheckpoint> readTorchCheckpoint(const std::string& path);
// The same from bytes already in memory, which must outlive the result; `origin` names them in
// errors.
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
