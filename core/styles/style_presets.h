// Style presets: the prompts that steer an ESPER model (resources/styles.json).
#pragma once

#include "util/result.h"

#include <string>
#include <vector>

namespace esper {

struct StylePreset {
    std::string id;     // "caption", "news", ...
    std::string label;  // for people
    std::string prompt; // the text after the prefix embeddings, e.g. "caption:" or "dialogue: A:"
    std::string family; // "style" (ESPER-Style) or "free" (ESPER-Free)
};

const std::vector<StylePreset>& builtinStylePresets();
Result<std::vector<StylePreset>> parseStylePresets(const std::string& json,
                                                   const std::string& origin);
// A preset by id, or nullptr.
const StylePreset* findStylePreset(const std::string& id);

} // namespace esper
