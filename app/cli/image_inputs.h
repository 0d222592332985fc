// The image arguments of `esper caption`: files, folders (recursively) and glob patterns, in a
// stable order, with what could not be expanded reported rather than dropped.
#pragma once

#include <string>
#include <vector>

namespace esper::cli {

struct ImageInputs {
    std::vector<std::string> files;
    std::vector<std::pair<std::string, std::string>> problems; // (argument, why)
};

ImageInputs collectImages(const std::vector<std::string>& arguments);
bool looksLikeImage(const std::string& path);

} // namespace esper::cli
