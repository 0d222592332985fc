#include "bundle/model_registry.h"

#include "util/embedded.h"

#include "util/json_text.h"
#include <cstdlib>

#include <nlohmann/json.hpp>

namespace esper {

Result<std::vector<RegistryModel>> parseModelRegistry(const std::string& text,
                                                      const std::string& origin) {
    auto parsed = parseJsonText(text, origin);
    ESPER_TRY(parsed);
    nlohmann::json j = std::move(parsed.value());
    if (!j.is_object() || !j.contains("models") || !j["models"].is_array())
        return fail(origin + ": expected {\"models\": [...]}");
    std::vector<RegistryModel> out;
    try {
        for (const auto& m : j["models"]) {
            RegistryModel r;
            r.id = m.at("id").get<std::string>();
            r.role = m.value("role", "");
            r.family = m.value("family", "");
            r.description = m.value("description", "");
            r.license = m.value("license", "");
            r.source = m.value("source", "");
            for (const auto& f : m.value("files", nlohmann::json::array())) {
                RegistryFile file;
                file.name = f.at("name").get<std::string>();
                if (f.contains("size")) {
                    // A float converted to an integer is undefined beyond its range (fuzzing
                    // found 5e129): sizes must be whole and non-negative.
                    if (!f["size"].is_number_integer() || f["size"].get<int64_t>() < 0)
                        return fail(origin + ": the size of '" + file.name +
                                    "' must be a whole number of bytes");
                    file.size = f["size"].get<int64_t>();
                }
                file.approximate = f.value("approx", false);
                file.sha256 = f.value("sha256", "");
                file.url = f.value("url", "");
                r.files.push_back(file);
            }
            out.push_back(std::move(r));
        }
    } catch (const nlohmann::json::exception& e) {
        return fail(origin + ": a model entry is malformed: " + e.what());
    }
    return out;
}

const std::vector<RegistryModel>& builtinModelRegistry() {
    static const std::vector<RegistryModel> models = [] {
        auto parsed = parseModelRegistry(embedded::modelRegistryJson, "models/registry.json");
        return parsed ? parsed.value() : std::vector<RegistryModel>{};
    }();
    return models;
}

const RegistryModel* findRegisteredModel(const std::string& id) {
    for (const auto& m : builtinModelRegistry())
        if (m.id == id) return &m;
    return nullptr;
}

std::string defaultModelsDir() {
    if (const char* dir = std::getenv("ESPER_MODELS_DIR"); dir && *dir) return dir;
    if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg)
        return std::string(xdg) + "/esper-studio/models";
    const char* home = std::getenv("HOME");
    return std::string(home ? home : ".") + "/.local/share/esper-studio/models";
}

std::string howToGet(const std::string& id, const std::string& targetDir) {
    const RegistryModel* m = findRegisteredModel(id);
    if (!m)
        return "Put a Hugging Face model folder (config.json, model.safetensors and its tokenizer "
               "files) at " +
               targetDir + ".";
    std::string files;
    for (const auto& f : m->files)
        files += (files.empty() ? "" : ", ") + f.name;
    return "Get it from " + m->source + " (" + files + ") into " + targetDir + ".";
}

} // namespace esper
