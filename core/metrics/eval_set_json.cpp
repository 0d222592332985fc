#include "metrics/eval_set_json.h"

#include "metrics/bleu.h"
#include "metrics/cider.h"
#include "metrics/ptb_tokenizer.h"
#include "metrics/rouge.h"
#include "util/json_text.h"

#include <nlohmann/json.hpp>
#include <unordered_map>
#include <unordered_set>

namespace esper {

Result<EvalSet> parseEvalSetJson(const std::string& text, const std::string& origin) {
    auto parsed = parseOrderedJsonText(text, origin);
    ESPER_TRY(parsed);
    nlohmann::ordered_json& j = parsed.value();
    if (!j.is_object() || !j.contains("refs") || !j["refs"].is_object())
        return fail(origin + ": expected an object with \"refs\" {image: [captions]}");
    if (!j.contains("cands") || !j["cands"].is_object())
        return fail(origin + ": expected \"cands\" {image: caption}");
    // ordered_json looks keys up linearly: index the candidates once.
    std::unordered_map<std::string, const nlohmann::ordered_json*> cands;
    for (auto it = j["cands"].begin(); it != j["cands"].end(); ++it)
        cands.emplace(it.key(), &it.value());
    EvalSet set;
    std::unordered_set<std::string> ids;
    for (auto it = j["refs"].begin(); it != j["refs"].end(); ++it) {
        EvalItem item;
        item.id = it.key();
        const std::string where = origin + ": refs[\"" + item.id + "\"]";
        if (!it.value().is_array() || it.value().empty())
            return fail(where + " must be a non-empty list of captions");
        for (const auto& r : it.value()) {
            if (!r.is_string()) return fail(where + " holds a value that is not a string");
            item.references.push_back(r.get<std::string>());
        }
        auto cand = cands.find(item.id);
        if (cand == cands.end())
            return fail(origin + ": cands has no caption for image \"" + item.id + "\"");
        if (!cand->second->is_string())
            return fail(origin + ": cands[\"" + item.id + "\"] must be one caption (a string)");
        item.candidate = cand->second->get<std::string>();
        ids.insert(item.id);
        set.push_back(std::move(item));
    }
    for (const auto& [id, value] : cands)
        if (!ids.count(id))
            return fail(origin + ": cands has image \"" + id + "\" that refs lacks");
    if (set.empty()) return fail(origin + ": the set has no images");
    return set;
}

void ptbTokenizeSet(EvalSet& set) {
    std::vector<std::string> refs, cands;
    for (const auto& item : set) {
        refs.insert(refs.end(), item.references.begin(), item.references.end());
        cands.push_back(item.candidate);
    }
    const auto refTokens = cocoTokenizeBatch(refs);
    const auto candTokens = cocoTokenizeBatch(cands);
    size_t r = 0;
    for (size_t i = 0; i < set.size(); ++i) {
        for (auto& ref : set[i].references)
            ref = refTokens[r++];
        set[i].candidate = candTokens[i];
    }
}

size_t capCaptionLengths(EvalSet& set, size_t maxTokens) {
    size_t cut = 0;
    auto cap = [&](std::string& text) {
        size_t spaces = 0;
        for (size_t i = 0; i < text.size(); ++i)
            if (text[i] == ' ' && ++spaces == maxTokens) {
                text.resize(i);
                ++cut;
                return;
            }
    };
    for (auto& item : set) {
        cap(item.candidate);
        for (auto& r : item.references)
            cap(r);
    }
    return cut;
}

std::string capWarning(size_t cut) {
    return std::to_string(cut) + " caption(s) longer than " + std::to_string(kMaxMetricTokens) +
           " tokens were cut to that length for BLEU, ROUGE-L and CIDEr";
}

std::vector<MetricResult> computeTextMetrics(const EvalSet& set) {
    const auto b = bleu(set);
    return {b[0], b[1], b[2], b[3], rougeL(set), ciderD(set)};
}

std::string metricsToJson(const EvalSet& set, const std::vector<MetricResult>& results) {
    nlohmann::ordered_json j;
    for (const auto& r : results)
        j[r.name] = r.corpus;
    nlohmann::ordered_json per = nlohmann::ordered_json::object();
    auto& images = per.get_ref<nlohmann::ordered_json::object_t&>();
    images.reserve(set.size());
    for (size_t i = 0; i < set.size(); ++i) {
        nlohmann::ordered_json scores;
        for (const auto& r : results)
            scores[r.name] = r.perImage[i];
        // Ids are unique (they are the keys of "refs"); appending skips ordered_map's linear
        // search for an existing key.
        images.emplace_back(set[i].id, std::move(scores));
    }
    j["per_image"] = per;
    return dumpJson(j, 2);
}

} // namespace esper
