#include "evaluation/dataset_eval.h"

#include "metrics/eval_set_json.h"
#include "util/json_text.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

namespace esper {
namespace {

// The references a candidate of `style` is scored against: that style's, else the plain ones.
const std::vector<std::string>* referencesFor(const CaptionRecord& r, const std::string& style) {
    auto it = r.references.find(style);
    if (it == r.references.end()) it = r.references.find("");
    return it == r.references.end() || it->second.empty() ? nullptr : &it->second;
}

std::string styleLabel(const std::string& style) {
    return style.empty() ? "(plain)" : style;
}

} // namespace

Result<Evaluation> evaluateDatasets(const CaptionDataset& refs, const CaptionDataset& cands,
                                    const EvalOptions& options) {
    // Candidates by reference position: matched by image id, else by file name.
    std::vector<const CaptionRecord*> matched(refs.records.size(), nullptr);
    Evaluation e;
    std::set<std::string> styles;
    for (const auto& c : cands.records) {
        if (c.candidates.empty()) continue;
        const size_t at = refs.matchImage(c);
        if (at == SIZE_MAX) {
            ++e.unmatchedCandidates;
            continue;
        }
        matched[at] = &c;
        for (const auto& [style, text] : c.candidates)
            styles.insert(style);
    }
    if (!options.styles.empty()) {
        std::set<std::string> wanted(options.styles.begin(), options.styles.end());
        for (auto it = styles.begin(); it != styles.end();)
            it = wanted.count(*it) ? std::next(it) : styles.erase(it);
    }
    if (styles.empty())
        return fail("no candidate caption matches an image of the references (" +
                    std::to_string(e.unmatchedCandidates) + " unmatched)");

    const std::filesystem::path root = options.imageRoot.empty() ? refs.baseDir : options.imageRoot;
    for (const auto& style : styles) {
        StyleEvaluation s;
        s.style = style;
        std::vector<std::string> imagePaths;
        for (size_t i = 0; i < refs.records.size(); ++i) {
            const auto& r = refs.records[i];
            if (!matched[i] || !matched[i]->candidates.count(style)) continue;
            if (!options.split.empty() && r.split != options.split) continue;
            const auto* list = referencesFor(r, style);
            if (!list) continue;
            EvalItem item{r.imageId, *list, matched[i]->candidates.at(style)};
            if (options.truncateReference)
                for (auto& ref : item.references)
                    ref = options.truncateReference(ref);
            s.set.push_back(std::move(item));
            const std::string& path = r.imagePath.empty() ? matched[i]->imagePath : r.imagePath;
            imagePaths.push_back(std::filesystem::path(path).is_absolute() || path.empty()
                                     ? path
                                     : (root / path).string());
        }
        if (s.set.empty()) continue;
        const EvalSet raw = s.set;
        if (options.ptb) ptbTokenizeSet(s.set);
        if (const size_t cut = capCaptionLengths(s.set)) s.warnings.push_back(capWarning(cut));
        s.metrics = computeTextMetrics(s.set);
        if (options.clip && options.loadImage) {
            auto clip = scoreDataset(*options.clip, raw, imagePaths, options.loadImage,
                                     options.photoPrefix);
            if (!clip) {
                s.notComputed["CLIP-S"] = "CLIP-S not computed: " + clip.error();
            } else {
                s.metrics.push_back(clip->clipS);
                if (!clip->refClipS.perImage.empty()) s.metrics.push_back(clip->refClipS);
                if (clip->failedImages)
                    s.notComputed["CLIP-S (some images)"] =
                        std::to_string(clip->failedImages) +
                        " image(s) could not be read and have no CLIP-S: " + clip->firstError;
            }
        }
        for (auto [enabled, name, run] : {std::tuple{options.meteor, "METEOR", &meteor},
                                          std::tuple{options.spice, "SPICE", &spice}}) {
            if (!enabled) continue;
            auto r = run(s.set, options.java);
            if (r)
                s.metrics.push_back(r.value());
            else
                s.notComputed[name] = r.error();
        }
        e.styles.push_back(std::move(s));
    }
    if (e.styles.empty())
        return fail("no image has both a candidate and references of its style" +
                    std::string(options.split.empty() ? "" : " in split '" + options.split + "'"));
    return e;
}

std::string evaluationTable(const Evaluation& e) {
    std::vector<std::string> columns;
    for (const auto& s : e.styles)
        for (const auto& m : s.metrics)
            if (std::find(columns.begin(), columns.end(), m.name) == columns.end())
                columns.push_back(m.name);
    std::string out;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%-14s %7s", "style", "images");
    out += buf;
    for (const auto& c : columns) {
        std::snprintf(buf, sizeof buf, " %9s", c.c_str());
        out += buf;
    }
    out += "\n";
    for (const auto& s : e.styles) {
        std::snprintf(buf, sizeof buf, "%-14s %7zu", styleLabel(s.style).c_str(), s.set.size());
        out += buf;
        for (const auto& c : columns) {
            auto it = std::find_if(s.metrics.begin(), s.metrics.end(),
                                   [&](const MetricResult& m) { return m.name == c; });
            if (it == s.metrics.end())
                std::snprintf(buf, sizeof buf, " %9s", "-");
            else
                std::snprintf(buf, sizeof buf, " %9.4f", it->corpus);
            out += buf;
        }
        out += "\n";
    }
    for (const auto& s : e.styles) {
        for (const auto& [metric, why] : s.notComputed)
            out += styleLabel(s.style) + ": " + why + "\n";
        for (const auto& warning : s.warnings)
            out += styleLabel(s.style) + ": " + warning + "\n";
    }
    if (e.unmatchedCandidates)
        out += std::to_string(e.unmatchedCandidates) +
               " candidate(s) name images the references lack; they were not scored\n";
    return out;
}

std::string evaluationJson(const Evaluation& e) {
    nlohmann::ordered_json j;
    j["styles"] = nlohmann::ordered_json::object();
    for (const auto& s : e.styles) {
        nlohmann::ordered_json o;
        o["images"] = s.set.size();
        for (const auto& m : s.metrics) {
            if (std::isnan(m.corpus))
                o[m.name] = nullptr;
            else
                o[m.name] = m.corpus;
        }
        if (!s.notComputed.empty()) o["not_computed"] = s.notComputed;
        if (!s.warnings.empty()) o["warnings"] = s.warnings;
        j["styles"][s.style] = o;
    }
    j["unmatched_candidates"] = e.unmatchedCandidates;
    return dumpJson(j, 2);
}

std::string perImageJsonl(const Evaluation& e) {
    std::string out;
    for (const auto& s : e.styles) {
        for (size_t i = 0; i < s.set.size(); ++i) {
            nlohmann::ordered_json r;
            r["image_id"] = s.set[i].id;
            r["style"] = s.style;
            r["candidate"] = s.set[i].candidate;
            for (const auto& m : s.metrics) {
                if (std::isnan(m.perImage[i]))
                    r[m.name] = nullptr;
                else
                    r[m.name] = m.perImage[i];
            }
            out += dumpJson(r) + "\n";
        }
    }
    return out;
}

} // namespace esper
