#include "image_inputs.h"

#include "media_kind.h"

#include <algorithm>
#include <filesystem>
#include <glob.h>
#include <set>

namespace esper::cli {

namespace fs = std::filesystem;

ImageInputs collectImages(const std::vector<std::string>& arguments, bool includeAudio) {
    ImageInputs out;
    std::set<std::string> seen;
    // In folders, files are picked by extension (reading every file's head would be slow on
    // big trees); a file without one is picked by its content.
    auto wanted = [&](const std::string& f) {
        if (media::hasImageExtension(f) || (includeAudio && media::hasAudioExtension(f)))
            return true;
        if (fs::path(f).has_extension()) return false;
        const auto kind = media::mediaKindOfFile(f);
        return kind == media::MediaKind::Image || (includeAudio && kind == media::MediaKind::Audio);
    };
    auto add = [&](const std::string& f) {
        if (seen.insert(f).second) out.files.push_back(f);
    };
    for (const auto& arg : arguments) {
        std::vector<std::string> matches;
        if (arg.find_first_of("*?[") != std::string::npos) {
            glob_t g{};
            if (::glob(arg.c_str(), 0, nullptr, &g) == 0)
                for (size_t i = 0; i < g.gl_pathc; ++i)
                    matches.emplace_back(g.gl_pathv[i]);
            ::globfree(&g);
            if (matches.empty()) out.problems.emplace_back(arg, "the pattern matches nothing");
        } else {
            matches.push_back(arg);
        }
        for (const auto& m : matches) {
            std::error_code ec;
            if (fs::is_directory(m, ec)) {
                std::vector<std::string> found;
                for (fs::recursive_directory_iterator
                         it(m, fs::directory_options::skip_permission_denied, ec),
                     end;
                     !ec && it != end; it.increment(ec))
                    if (it->is_regular_file() && wanted(it->path().string()))
                        found.push_back(it->path().string());
                if (ec) out.problems.emplace_back(m, "cannot list the folder: " + ec.message());
                std::sort(found.begin(), found.end());
                if (found.empty() && !ec)
                    out.problems.emplace_back(m, includeAudio ? "the folder has no images or sounds"
                                                              : "the folder has no images");
                for (const auto& f : found)
                    add(f);
            } else if (fs::exists(m, ec)) {
                add(m); // a named file is tried whatever its extension; decoding judges it
            } else {
                out.problems.emplace_back(m, "no such file or folder");
            }
        }
    }
    return out;
}

} // namespace esper::cli
