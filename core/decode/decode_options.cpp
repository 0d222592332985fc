#include "decode/decode_options.h"

#include "util/json_text.h"

#include <cstdlib>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

namespace esper {

Result<void> DecodeOptions::validate() const {
    if (maxNewTokens < 1 || maxNewTokens > 1024) return fail("max new tokens must be 1..1024");
    if (minNewTokens < 0 || minNewTokens > maxNewTokens)
        return fail("min new tokens must be between 0 and max new tokens");
    if (noRepeatNgram < 0) return fail("no-repeat n-gram size cannot be negative");
    if (temperature <= 0) return fail("temperature must be above 0");
    if (topK < 0) return fail("top-k cannot be negative");
    if (topP <= 0 || topP > 1) return fail("top-p must be in (0, 1]");
    if (beamWidth < 1 || beamWidth > 64) return fail("beam width must be 1..64");
    if (bestOf < 1 || bestOf > 64) return fail("best-of must be 1..64");
    return {};
}

bool usesFixedShapeLoop(const DecodeOptions& o, bool onCuda) {
    if (o.strategy == DecodeStrategy::Beam || o.maxNewTokens < 1) return false;
    if (o.loop != DecodeLoop::Auto) return o.loop == DecodeLoop::FixedShape;
    const char* env = std::getenv("ESPER_DECODE_LOOP");
    if (env && std::strcmp(env, "fixed") == 0) return true;
    if (env && std::strcmp(env, "host") == 0) return false;
    return onCuda;
}

const char* strategyName(DecodeStrategy s) {
    switch (s) {
    case DecodeStrategy::Greedy:
        return "greedy";
    case DecodeStrategy::Sample:
        return "sample";
    case DecodeStrategy::Beam:
        return "beam";
    }
    return "?";
}

Result<DecodeStrategy> parseStrategy(const std::string& name) {
    for (auto s : {DecodeStrategy::Greedy, DecodeStrategy::Sample, DecodeStrategy::Beam})
        if (name == strategyName(s)) return s;
    return fail("unknown decoding strategy '" + name + "' (greedy, sample or beam)");
}

Result<void> applyDecodeJson(const std::string& text, DecodeOptions& o, const std::string& origin) {
    auto parsed = parseJsonText(text, origin);
    ESPER_TRY(parsed);
    nlohmann::json j = std::move(parsed.value());
    if (!j.is_object()) return fail(origin + ": decoding settings must be an object");
    try {
        if (j.contains("strategy")) {
            auto s = parseStrategy(j["strategy"].get<std::string>());
            if (!s) return fail(origin + ": " + s.error());
            o.strategy = s.value();
        }
        // An integer must be a whole number that fits its field: nlohmann's get<int> would take
        // 2.7 as 2 and 2^32 + 5 as 5.
        std::string problem;
        auto num = [&](const char* key, auto& field) {
            using T = std::decay_t<decltype(field)>;
            if (!j.contains(key)) return;
            const auto& v = j[key];
            if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
                const bool fits =
                    v.is_number_integer() &&
                    (v.is_number_unsigned()
                         ? v.template get<uint64_t>() <= uint64_t(std::numeric_limits<T>::max())
                         : v.template get<int64_t>() >= int64_t(std::numeric_limits<T>::min()) &&
                               (std::is_unsigned_v<T> ||
                                v.template get<int64_t>() <=
                                    int64_t(std::numeric_limits<T>::max())));
                if (!fits) {
                    if (problem.empty())
                        problem = std::string(key) + " must be a whole number in range, not " +
                                  dumpJson(v).substr(0, 40);
                    return;
                }
            }
            field = v.template get<T>();
        };
        num("max_new_tokens", o.maxNewTokens);
        num("min_new_tokens", o.minNewTokens);
        num("ban_eos", o.banEos);
        num("no_repeat_ngram", o.noRepeatNgram);
        num("temperature", o.temperature);
        num("top_k", o.topK);
        num("top_p", o.topP);
        num("beam_width", o.beamWidth);
        num("length_penalty", o.lengthPenalty);
        num("best_of", o.bestOf);
        num("seed", o.seed);
        num("stop", o.stopStrings);
        if (!problem.empty()) return fail(origin + ": " + problem);
    } catch (const nlohmann::json::exception& e) {
        return fail(origin + ": a decoding setting has the wrong type: " + e.what());
    }
    if (auto ok = o.validate(); !ok) return fail(origin + ": " + ok.error());
    return {};
}

std::string decodeOptionsJson(const DecodeOptions& o) {
    nlohmann::ordered_json j;
    j["strategy"] = strategyName(o.strategy);
    j["max_new_tokens"] = o.maxNewTokens;
    j["min_new_tokens"] = o.minNewTokens;
    j["ban_eos"] = o.banEos;
    j["no_repeat_ngram"] = o.noRepeatNgram;
    j["temperature"] = o.temperature;
    j["top_k"] = o.topK;
    j["top_p"] = o.topP;
    j["beam_width"] = o.beamWidth;
    j["length_penalty"] = o.lengthPenalty;
    j["best_of"] = o.bestOf;
    j["seed"] = o.seed;
    j["stop"] = o.stopStrings;
    return dumpJson(j);
}

} // namespace esper
