#include "default_bundle.h"

#include <algorithm>
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

std::vector<std::string> shippedBundleDirs() {
    namespace fs = std::filesystem;
    const std::string first = defaultBundleDir();
    if (first.empty()) return {};
    std::vector<std::string> out{first}, others;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(fs::path(first).parent_path(), ec))
        if (entry.is_directory() && fs::exists(entry.path() / "esper.json") &&
            entry.path().string() != first)
            others.push_back(entry.path().string());
    std::sort(others.begin(), others.end());
    out.insert(out.end(), others.begin(), others.end());
    return out;
}

} // namespace esper
