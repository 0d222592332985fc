// A trainer's result as a complete bundle: the starting bundle's CLIP and language model
// (referred to from the new folder, not copied), the trained mapper, and what trained it.
// Every trainer that writes a bundle (ESPER, supervised fine-tuning on pairs) goes through here.
#pragma once

#include "bundle/bundle_manifest.h"
#include "util/result.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace esper {

class TrainableWeights;

struct TrainedBundle {
    const BundleManifest* start = nullptr; // where the models come from
    std::string outDir;
    const TrainableWeights* mapper = nullptr;
    std::string mapperNote;                         // the safetensors metadata's "esper" entry
    std::string description;                        // esper.json's description
    std::string trainingJson;                       // esper.json's "training" object, as JSON text
    std::optional<std::vector<std::string>> styles; // when the training chose them
    std::map<std::string, std::string> extraFiles;  // file name -> text, written atomically
};

Result<void> writeTrainedBundle(const TrainedBundle& b);

} // namespace esper
