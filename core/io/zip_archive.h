// A read-only view of a ZIP archive held in memory (a mapped file), for the archives torch.save
// writes: entries stored without compression, found through the central directory. Every
// offset and length is checked against the bytes before it is used.
#pragma once

#include "util/result.h"

#include <string>
#include <string_view>
#include <vector>

namespace esper {

struct ZipEntry {
    std::string name;
    uint64_t offset = 0; // of the entry's data, in the archive
    uint64_t size = 0;
    bool stored = true; // false: compressed, which this reader does not inflate
};

class ZipArchive {
public:
    // `bytes` must outlive the archive; `origin` names it in errors.
    static Result<ZipArchive> open(std::string_view bytes, const std::string& origin);
    static bool looksLikeZip(std::string_view bytes);
    const std::vector<ZipEntry>& entries() const { return entries_; }
    const ZipEntry* find(std::string_view name) const;
    // An entry's bytes; fails for a compressed entry.
    Result<std::string_view> read(const ZipEntry& entry) const;

private:
    std::string_view bytes_;
    std::string origin_;
    std::vector<ZipEntry> entries_;
};

} // namespace esper
