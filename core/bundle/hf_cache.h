// Models already in the user's Hugging Face cache, used in place rather than downloaded again:
// $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub, in the layout
// huggingface_hub writes (models--ORG--NAME/refs/REVISION -> snapshots/COMMIT/).
#pragma once

#include <string>

namespace esper {

// The snapshot folder of `repo` at `revision` (a branch, tag or commit), if it has a
// config.json; empty otherwise.
std::string findInHfCache(const std::string& repo, const std::string& revision = "main");

} // namespace esper
