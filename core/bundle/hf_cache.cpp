#include "bundle/hf_cache.h"

#include "util/file_util.h"

#include <cstdlib>
#include <filesystem>

namespace esper {

namespace {
std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}
} // namespace

std::string findInHfCache(const std::string& repo, const std::string& revision) {
    namespace fs = std::filesystem;
    std::string cache = env("HF_HUB_CACHE");
    if (cache.empty() && !env("HF_HOME").empty()) cache = env("HF_HOME") + "/hub";
    if (cache.empty() && !env("HOME").empty()) cache = env("HOME") + "/.cache/huggingface/hub";
    if (cache.empty() || repo.empty() || repo.find("..") != std::string::npos) return {};
    std::string name = repo;
    for (size_t at = name.find('/'); at != std::string::npos; at = name.find('/', at + 2))
        name.replace(at, 1, "--");
    const fs::path dir = fs::path(cache) / ("models--" + name);
    // A branch or tag names a commit in refs/; a commit hash names the snapshot itself.
    std::string commit = revision;
    if (auto ref = readTextFile((dir / "refs" / revision).string()); ref) {
        commit = ref.value();
        while (!commit.empty() && (commit.back() == '\n' || commit.back() == ' '))
            commit.pop_back();
    }
    const fs::path snapshot = dir / "snapshots" / commit;
    std::error_code ec;
    return fs::exists(snapshot / "config.json", ec) ? snapshot.string() : std::string();
}

} // namespace esper
