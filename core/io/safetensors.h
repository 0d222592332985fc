// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header,
// then the raw little-endian tensor bytes. Reading validates everything before any byte is used.
#pragma once

#include "io/mapped_file.h"
#include "util/result.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace esper {

enum class DType {
    Bool,
    U8,
    I8,
    I16,
    U16,
    F16,
    BF16,
    I32,
    U32,
    F32,
    F64,
    I64,
    U64,
    C64,
    F8E5M2,
    F8E4M3
};

const char* dtypeName(DType t);
size_t dtypeSize(DType t);

struct TensorInfo {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    uint64_t begin = 0; // relative to the data section
    uint64_t end = 0;
    int64_t numel() const;
};

class SafetensorsFile {
public:
    static constexpr uint64_t kMaxHeaderBytes = 100'000'000;

    static Result<SafetensorsFile> open(const std::string& path);
    const std::string& path() const { return file_->path(); }
    const std::vector<TensorInfo>& tensors() const { return tensors_; }
    const std::map<std::string, std::string>& metadata() const { return metadata_; }
    const TensorInfo* find(const std::string& name) const;
    const unsigned char* bytes(const TensorInfo& t) const { return dataStart_ + t.begin; }
    const std::shared_ptr<const MappedFile>& mapping() const { return file_; }

private:
    static Result<SafetensorsFile> parse(std::shared_ptr<const MappedFile> file);

    std::shared_ptr<const MappedFile> file_;
    const unsigned char* dataStart_ = nullptr;
    std::vector<TensorInfo> tensors_;
    std::map<std::string, size_t> index_;
    std::map<std::string, std::string> metadata_;
};

struct TensorBytes {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    const void* data = nullptr; // numel(shape) * dtypeSize(dtype) bytes, little-endian, C order
};

// Writes atomically, in the layout the reference writer produces: tensors sorted by descending
// alignment then name, header padded with spaces to a multiple of 8.
Result<void> writeSafetensors(const std::string& path, const std::vector<TensorBytes>& tensors,
                              const std::map<std::string, std::string>& metadata = {});

} // namespace esper
