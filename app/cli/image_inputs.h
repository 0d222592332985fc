// The image (and sound) arguments of `esper caption`: files, folders (recursively) and glob
// patterns, in a stable order, with what could not be expanded reported rather than dropped.
#pragma once

#include <string>
#include <vector>

namespace esper::cli {

struct ImageInputs {
    std::vector<std::string> files;
    std::vector<std::pair<std::string, std::string>> problems; // (argument, why)
};

// With includeAudio, folders and globs yield sound files too (`esper caption`).
ImageInputs collectImages(const std::vector<std::string>& arguments, bool includeAudio = false);

} // namespace esper::cli
