// An ESPER bundle: a folder whose esper.json names the CLIP model, the language model, the
// mapper weights, optionally an audio encoder, the prefix length, the styles it was trained with
// and default decoding.
#pragma once

#include "decode/decode_options.h"
#include "util/result.h"

#include <string>
#include <vector>

namespace esper {

struct ModelReference {
    std::string spec;      // as written: a registry id ("gpt2") or a path ("./lm", "/models/x")
    std::string path;      // resolved folder
    std::string tokenizer; // folder of the tokenizer files (default: path)
    // The tokenizer as written, when given apart from the model: a registry id stays an id
    // when the manifest is written again.
    std::string tokenizerSpec;
};

struct BundleManifest {
    std::string dir; // the bundle folder
    std::string name;
    std::string description;
    ModelReference clip, lm;
    // An audio encoder into the CLIP model's image-embedding space (Wav2CLIP); spec empty when
    // the bundle captions images only.
    ModelReference audio;
    std::string mapperPath;
    int64_t prefixLength = 10;
    // "mapper_input": "scaled" (ESPER divides the CLIP features by sqrt(k·E / C), the default)
    // or "raw" (ClipCap's mappers read them unscaled).
    bool mapperScaledInput = true;
    // "cpu_weights": how the language model's weights are held on the CPU when no precision
    // is asked for ("int8" or "fp16": compressed, computed in fp32); empty: fp32.
    std::string cpuWeights;
    std::vector<std::string> styles; // style ids or raw prompts the mapper was trained with
    DecodeOptions decoding;
    // How the mapper was trained, as a JSON object (e.g. {"method": "esper-ppo", ...}); empty
    // when the manifest does not say. Kept as written.
    std::string trainingJson;
};

// Reads DIR/esper.json. Model references resolve to a path: absolute, relative to the bundle
// ("./x" or an existing folder beside esper.json), else MODELS_DIR/<id>. When a piece is missing
// the one error says which, where it was looked for, and how to get it.
Result<BundleManifest> readBundleManifest(const std::string& dir,
                                          const std::string& modelsDir = "");
Result<void> writeBundleManifest(const BundleManifest& manifest, const std::string& dir);

} // namespace esper
