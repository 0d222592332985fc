#pragma once

#include "util/result.h"

#include <string>
#include <string_view>

namespace esper {

Result<std::string> readTextFile(const std::string& path);
// Writes to a temporary sibling and renames it over `path`, so a crash never leaves half a file.
Result<void> writeFileAtomic(const std::string& path, std::string_view bytes);

} // namespace esper
