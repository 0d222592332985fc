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
    struct Number {
        const char* flag;
        double* real;
        int* integer;
    };
    double temperature = o.temperature, topP = o.topP, lengthPenalty = o.lengthPenalty;
    for (const Number& n :
         {Number{"max-tokens", nullptr, &o.maxNewTokens},
          Number{"min-tokens", nullptr, &o.minNewTokens}, Number{"top-k", nullptr, &o.topK},
          Number{"no-repeat", nullptr, &o.noRepeatNgram},
          Number{"beam-width", nullptr, &o.beamWidth}, Number{"best-of", nullptr, &o.bestOf},
          Number{"temperature", &temperature, nullptr}, Number{"top-p", &topP, nullptr},
          Number{"length-penalty", &lengthPenalty, nullptr}}) {
        if (!args.has(n.flag)) continue;
        const auto v = args.number(n.flag);
        if (!v) return std::string("--") + n.flag + " needs a number";
        if (n.real)
            *n.real = *v;
        else
            *n.integer = static_cast<int>(*v);
    }
    o.temperature = temperature;
    o.topP = topP;
    o.lengthPenalty = lengthPenalty;
    if (args.has("seed")) {
        const auto v = args.number("seed");
        if (!v || *v < 0) return "--seed needs a non-negative number";
        o.seed = static_cast<uint64_t>(*v);
    }
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
