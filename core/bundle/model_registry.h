// The registry of models ESPER Studio knows (models/registry.json): where each comes from, its
// files, sizes and licence. The studio's model chooser and the messages about missing models
// read it.
#pragma once

#include "util/result.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace esper {

struct RegistryFile {
    std::string name;
    std::optional<int64_t> size;
    bool approximate = false;
    std::string sha256;
    // Where the file is served when not from the model's hub repository (a GitHub release).
    std::string url;
};

struct RegistryModel {
    std::string id, role, family, description, license, source;
    std::vector<RegistryFile> files;
};

Result<std::vector<RegistryModel>> parseModelRegistry(const std::string& json,
                                                      const std::string& origin);
const std::vector<RegistryModel>& builtinModelRegistry();
const RegistryModel* findRegisteredModel(const std::string& id);

// Where downloaded models live: $ESPER_MODELS_DIR, else $XDG_DATA_HOME/esper-studio/models,
// else ~/.local/share/esper-studio/models.
std::string defaultModelsDir();

// "Get it from SOURCE (files: ...) into DIR." for a registered id; a generic hint otherwise.
std::string howToGet(const std::string& id, const std::string& targetDir);

} // namespace esper
