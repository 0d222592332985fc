#pragma once

#include "util/input_limits.h"
#include "util/result.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace esper {

// Whether `path` names a regular file (links followed) of at most `maxBytes`; the error says
// what it is instead (missing, a folder, a device or pipe, too large).
Result<void> checkRegularFile(const std::string& path, uint64_t maxBytes = kMaxWholeFileBytes);
// The whole file, after checkRegularFile.
Result<std::string> readTextFile(const std::string& path);
// Writes to a temporary sibling and renames it over `path`, so a crash never leaves half a file.
Result<void> writeFileAtomic(const std::string& path, std::string_view bytes);
// The same for a file made of pieces written one after another (a header and tensors held
// elsewhere), so nothing is gathered into one buffer first.
Result<void> writeFileAtomic(const std::string& path, const std::vector<std::string_view>& pieces);
// Copies `from` over `to`; nothing to do when both name the same file. The error names `what`.
Result<void> copyFileOver(const std::string& from, const std::string& to, const std::string& what);

} // namespace esper
