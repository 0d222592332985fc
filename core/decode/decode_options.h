// How captions are decoded. The defaults are ESPER's inference setting: greedy, 20 new tokens,
// end-of-text banned, no repeated bigram, the caption cut at its first period.
#pragma once

#include "util/result.h"

#include <cstdint>
#include <string>
#include <vector>

namespace esper {

enum class DecodeStrategy { Greedy, Sample, Beam };

// How greedy and sampled tokens are chosen, not which: the host loop reads every step's logits
// back; the fixed-shape loop (fixed_shape_decode.cpp) chooses on the device and reads back
// every few steps, which pays on a GPU. Auto: fixed-shape on CUDA, the host loop elsewhere;
// $ESPER_DECODE_LOOP (host or fixed) overrides Auto. Greedy tokens are the same either way.
enum class DecodeLoop { Auto, Host, FixedShape };

struct DecodeOptions {
    DecodeStrategy strategy = DecodeStrategy::Greedy;
    int maxNewTokens = 20;
    int minNewTokens = 0;  // end-of-text is banned until this many tokens exist
    bool banEos = true;    // ESPER never lets captions end early
    int noRepeatNgram = 2; // 0: off; over prompt + generated tokens, as Hugging Face does
    double temperature = 1.0;
    int topK = 0;      // 0: off
    double topP = 1.0; // 1: off
    int beamWidth = 4;
    double lengthPenalty = 1.0;
    int bestOf = 1;    // > 1: sample that many per style and keep the best CLIP-S
    uint64_t seed = 0; // sampling is reproducible for a seed
    // Generation of a row stops when its text contains one of these; the text is cut before it.
    std::vector<std::string> stopStrings{"."};
    // Not part of a bundle's "decoding": a property of the machine, not of the captions.
    DecodeLoop loop = DecodeLoop::Auto;

    Result<void> validate() const;
};

// Whether decoding with `options` takes the fixed-shape loop on a device that is CUDA or not.
bool usesFixedShapeLoop(const DecodeOptions& options, bool onCuda);

const char* strategyName(DecodeStrategy s);
Result<DecodeStrategy> parseStrategy(const std::string& name);

// JSON object with the fields above (the bundle manifest's "decoding"); absent fields keep
// their current values.
Result<void> applyDecodeJson(const std::string& json, DecodeOptions& options,
                             const std::string& origin);
std::string decodeOptionsJson(const DecodeOptions& options);

} // namespace esper
