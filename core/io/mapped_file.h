#pragma once

#include "util/result.h"

#include <cstddef>
#include <memory>
#include <string>

namespace esper {

// A read-only memory map of a whole file; tensors loaded from it alias its pages.
class MappedFile {
public:
    static Result<std::shared_ptr<const MappedFile>> open(const std::string& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const unsigned char* data() const { return data_; }
    size_t size() const { return size_; }
    const std::string& path() const { return path_; }

private:
    MappedFile() = default;
    const unsigned char* data_ = nullptr;
    size_t size_ = 0;
    std::string path_;
};

} // namespace esper
