// The decoding flags `esper caption` (and later verbs) accept, applied over a bundle's defaults.
#pragma once

#include "args.h"
#include "decode/decode_options.h"

#include <string>
#include <vector>

namespace esper::cli {

// Option specs to add to a verb's list.
std::vector<OptionSpec> decodeFlagSpecs();
// Help text lines for them.
extern const char* const kDecodeFlagsHelp;
// Applies the given flags; returns a usage problem, or empty.
std::string applyDecodeFlags(const Args& args, DecodeOptions& options);

} // namespace esper::cli
