#include "styles/style_presets.h"

#include "util/embedded.h"

#include "util/json_text.h"

#include <nlohmann/json.hpp>

namespace esper {

Result<std::vector<StylePreset>> parseStylePresets(const std::string& text,
                                                   const std::string& origin) {
    auto parsed = parseJsonText(text, origin);
    ESPER_TRY(parsed);
    nlohmann::json j = std::move(parsed.value());
    if (!j.is_object() || !j.contains("styles") || !j["styles"].is_array())
        return fail(origin + ": expected {\"styles\": [...]}");
    std::vector<StylePreset> out;
    for (size_t i = 0; i < j["styles"].size(); ++i) {
        const auto& s = j["styles"][i];
        const std::string where = origin + ": styles[" + std::to_string(i) + "]";
        if (!s.is_object() || !s.contains("id") || !s.contains("prompt") || !s["id"].is_string() ||
            !s["prompt"].is_string())
            return fail(where + " needs string fields id and prompt");
        // value() would throw on a label or family of another type (fuzzing found it).
        for (const char* optional : {"label", "family"})
            if (s.contains(optional) && !s[optional].is_string())
                return fail(where + ": " + optional + " must be a string");
        out.push_back({s["id"].get<std::string>(), s.value("label", s["id"].get<std::string>()),
                       s["prompt"].get<std::string>(), s.value("family", std::string("style"))});
    }
    return out;
}

const std::vector<StylePreset>& builtinStylePresets() {
    static const std::vector<StylePreset> presets = [] {
        auto parsed = parseStylePresets(embedded::stylePresetsJson, "resources/styles.json");
        return parsed ? parsed.value() : std::vector<StylePreset>{};
    }();
    return presets;
}

const StylePreset* findStylePreset(const std::string& id) {
    for (const auto& p : builtinStylePresets())
        if (p.id == id) return &p;
    return nullptr;
}

} // namespace esper
