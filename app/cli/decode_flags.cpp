#include "decode_flags.h"

namespace esper::cli {

const char* const kDecodeFlagsHelp =
    "decoding (defaults: the bundle's, ESPER's greedy 20 tokens, no-repeat 2, cut at '.'):\n"
    "  --strategy greedy|sample|beam   --max-tokens N   --min-tokens N\n"
    "  --temperature T   --top-k K   --top-p P   --no-repeat N (0: off)\n"
    "  --allow-eos (captions may end early)   --stop TEXT (repeatable)   --no-stop\n"
    "  --beam-width W   --length-penalty L   --best-of N (sample N, keep the best CLIP-S)\n"
    "  --seed S\n";

std::vector<OptionSpec> decodeFlagSpecs() {
    return {{"strategy"},
            {"max-tokens"},
            {"min-tokens"},
            {"temperature"},
            {"top-k"},
            {"top-p"},
            {"no-repeat"},
            {"allow-eos", false},
            {"stop", true, true},
            {"no-stop", false},
            {"beam-width"},
            {"length-penalty"},
            {"best-of"},
            {"seed"}};
}

std::string applyDecodeFlags(const Args& args, DecodeOptions& o) {
    if (args.has("strategy")) {
        auto s = parseStrategy(args.get("strategy"));
        if (!s) return s.error();
        o.strategy = s.value();
    }
    // Ranges that keep a typo from meaning something else; DecodeOptions::validate checks how
    // the values fit together.
    readWhole(args, "max-tokens", o.maxNewTokens, 1, 4096);
    readWhole(args, "min-tokens", o.minNewTokens, 0, 4096);
    readWhole(args, "top-k", o.topK, 0, 1000000);
    readWhole(args, "no-repeat", o.noRepeatNgram, 0, 64);
    readWhole(args, "beam-width", o.beamWidth, 1, 256);
    readWhole(args, "best-of", o.bestOf, 1, 256);
    readWhole(args, "seed", o.seed, 0);
    o.temperature = args.positive("temperature", o.temperature);
    o.topP = args.positive("top-p", o.topP);
    o.lengthPenalty = args.real("length-penalty", o.lengthPenalty, -100, 100);
    if (!args.problem().empty()) return args.problem();
    if (args.has("allow-eos")) o.banEos = false;
    if (args.has("no-stop")) o.stopStrings.clear();
    if (args.has("stop")) o.stopStrings = args.all("stop");
    // Asking for best-of or sampling settings implies sampling.
    if (!args.has("strategy") &&
        (o.bestOf > 1 || args.has("temperature") || args.has("top-p") || args.has("top-k")))
        o.strategy = DecodeStrategy::Sample;
    if (auto ok = o.validate(); !ok) return ok.error();
    return {};
}

} // namespace esper::cli
