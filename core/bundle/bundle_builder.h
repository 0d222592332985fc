// Makes a new bundle around existing CLIP and language-model folders, with a freshly initialised
// mapper: the starting point of ESPER-Free training, and the way tests assemble bundles from the
// tiny reference models.
#pragma once

#include "bundle/bundle_manifest.h"

namespace esper {

struct NewBundle {
    std::string dir; // created if missing; must not already hold esper.json
    std::string name;
    std::string clip, clipTokenizer; // model id or path (as in esper.json); tokenizer optional
    std::string lm, lmTokenizer;
    int64_t prefixLength = 10;
    std::vector<std::string> styles{"caption"};
    DecodeOptions decoding;
    uint64_t seed = 0;
    std::string modelsDir; // where model ids resolve (default: defaultModelsDir())
};

Result<BundleManifest> createBundle(const NewBundle& spec);

} // namespace esper
