#include "default_bundle.h"

#include <cstdlib>
#include <filesystem>
#include <vector>

#ifndef ESPER_SOURCE_MODELS_DIR
#define ESPER_SOURCE_MODELS_DIR ""
#endif

namespace esper {

std::string defaultBundleDir() {
    namespace fs = std::filesystem;
    if (const char* env = std::getenv("ESPER_BUNDLE"); env && *env) return env;
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    std::vector<fs::path> candidates;
    if (!ec) candidates.push_back(exe.parent_path() / "../share/esper-studio/models/demo");
    if (*ESPER_SOURCE_MODELS_DIR) candidates.push_back(fs::path(ESPER_SOURCE_MODELS_DIR) / "demo");
    for (const auto& c : candidates)
        if (fs::exists(c / "esper.json")) return fs::weakly_canonical(c).string();
    return "";
}

} // namespace esper
