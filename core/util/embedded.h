// Data files compiled into the engine (see cmake/embed_text.cmake): the style presets from
// resources/styles.json and the model registry from models/registry.json.
#pragma once

namespace esper::embedded {

extern const char* const stylePresetsJson;
extern const char* const modelRegistryJson;

} // namespace esper::embedded
