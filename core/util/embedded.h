// Data files compiled into the engine (see cmake/embed_text.cmake): the style presets from
// resources/styles.json, the model registry from models/registry.json and ESPER-Free's
// sentence-initial words from resources/sent_init_english.json.
#pragma once

namespace esper::embedded {

extern const char* const stylePresetsJson;
extern const char* const modelRegistryJson;
extern const char* const sentInitEnglishJson;

} // namespace esper::embedded
