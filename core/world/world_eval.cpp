#include "world/world_eval.h"

#include "captioning/captioner.h"
#include "metrics/eval_set_json.h"
#include "util/json_text.h"
#include "world/captions.h"
#include "world/scene_sound.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>

namespace esper::world {

namespace {

nlohmann::ordered_json scoresJson(const WorldStyleScores& s) {
    return {{"object_precision", s.precision},
            {"object_recall", s.recall},
            {"object_f1", s.f1},
            {"object_f1_by_objects", s.f1ByObjects},
            {"mispaired", s.mispaired},
            {"objects_stated", s.objectsStated},
            {"size_accuracy", s.sizeAccuracy},
            {"sizes_stated", s.sizesStated},
            {"relation_accuracy", s.relationAccuracy},
            {"relations_stated", s.relationsStated},
            {"clip_s", s.clipS},
            {"bleu_4", s.bleu4},
            {"cider_d", s.cider}};
}

} // namespace

WorldStyleScores WorldEvalReport::mean() const {
    WorldStyleScores m;
    m.style = "mean";
    if (styles.empty()) return m;
    const double n = double(styles.size());
    for (const auto& s : styles) {
        m.precision += s.precision / n;
        m.recall += s.recall / n;
        m.f1 += s.f1 / n;
        for (size_t k = 0; k < m.f1ByObjects.size(); ++k)
            m.f1ByObjects[k] += s.f1ByObjects[k] / n;
        m.mispaired += s.mispaired / n;
        m.objectsStated += s.objectsStated;
        // Pooled over what was stated: a style that states no size has no size accuracy.
        m.sizeAccuracy += s.sizeAccuracy * s.sizesStated;
        m.relationAccuracy += s.relationAccuracy * s.relationsStated;
        m.sizesStated += s.sizesStated;
        m.relationsStated += s.relationsStated;
        m.clipS += s.clipS / n;
        m.bleu4 += s.bleu4 / n;
        m.cider += s.cider / n;
    }
    m.sizeAccuracy = m.sizesStated ? m.sizeAccuracy / m.sizesStated : 0.0;
    m.relationAccuracy = m.relationsStated ? m.relationAccuracy / m.relationsStated : 0.0;
    return m;
}

std::string WorldEvalReport::json() const {
    nlohmann::ordered_json j{{"modality", modality == Modality::Audio ? "audio" : "image"},
                             {"scenes", scenes},
                             {"scenes_by_objects", scenesByObjects},
                             {"seconds", seconds}};
    j["styles"] = nlohmann::ordered_json::object();
    for (const auto& s : styles)
        j["styles"][s.style] = scoresJson(s);
    j["mean"] = scoresJson(mean());
    if (clip) {
        j["clip"] = {{"retrieval_top1", clip->retrievalTop1}};
        addAttributeFields(j["clip"], clip->attributes);
    }
    if (lmCopy)
        j["lm"] = {{"copy_f1", lmCopy->f1},
                   {"copy_mispaired", lmCopy->mispaired},
                   {"copy_size_accuracy", lmCopy->sizeAccuracy},
                   {"copy_scenes", lmCopy->scenes}};
    return dumpJson(j, 2);
}

std::string WorldEvalReport::table() const {
    std::string out;
    char line[256];
    std::snprintf(line, sizeof line, "%-12s %9s %6s %6s %5s %5s %5s %7s %8s %8s %6s %7s %7s\n",
                  "style", "precision", "recall", "F1", "1 obj", "2 obj", "3 obj", "mispair",
                  "size ok", "rel. ok", "CLIP-S", "BLEU-4", "CIDEr");
    out += line;
    auto row = [&](const WorldStyleScores& s) {
        std::snprintf(line, sizeof line,
                      "%-12s %9.3f %6.3f %6.3f %5.3f %5.3f %5.3f %7.3f %8.3f %8.3f %6.3f %7.3f "
                      "%7.3f\n",
                      s.style.c_str(), s.precision, s.recall, s.f1, s.f1ByObjects[0],
                      s.f1ByObjects[1], s.f1ByObjects[2], s.mispaired, s.sizeAccuracy,
                      s.relationAccuracy, s.clipS, s.bleu4, s.cider);
        out += line;
    };
    for (const auto& s : styles)
        row(s);
    if (styles.size() > 1) row(mean());
    std::snprintf(line, sizeof line,
                  "n obj: the F1 on the %d, %d and %d scenes with one, two and three objects\n",
                  scenesByObjects[0], scenesByObjects[1], scenesByObjects[2]);
    out += line;
    out += "mispair: the share of the objects named whose colour and shape are both in the "
           "scene, but on different objects\n";
    if (modality == Modality::Audio)
        out += "captioned from each scene's sound alone; CLIP-S is audio CLIP-S (the sound's "
               "embedding against the caption's CLIP text embedding)\n";
    if (clip) {
        std::snprintf(line, sizeof line,
                      "CLIP: top-1 among 100 %.1f %%; caption closer than one with a changed "
                      "shape %.1f %%, size %.1f %%, colour %.1f %% (%d scenes); than one with "
                      "two shapes swapped %.1f %% (%d scenes)\n",
                      100 * clip->retrievalTop1, 100 * clip->attributes.shape,
                      100 * clip->attributes.size, 100 * clip->attributes.colour,
                      clip->attributes.scenes, 100 * clip->attributes.binding,
                      clip->attributes.bindingScenes);
        out += line;
    }
    if (lmCopy) {
        std::snprintf(line, sizeof line,
                      "LM: caption after a text about the scene F1 %.3f, mispaired %.1f %%, sizes "
                      "right %.1f %% (%d scenes): what the frozen LM carries from a text into a "
                      "caption\n",
                      lmCopy->f1, 100 * lmCopy->mispaired, 100 * lmCopy->sizeAccuracy,
                      lmCopy->scenes);
        out += line;
    }
    return out;
}

Result<WorldEvalReport> evaluateOnWorld(const WorldEvalOptions& o) {
    const auto start = std::chrono::steady_clock::now();
    if (o.scenes < 1) return fail("evaluate at least one scene");
    auto loaded = Captioner::loadBundle(o.bundleDir, "", o.device, o.dtype);
    ESPER_TRY(loaded);
    Captioner& captioner = *loaded.value();
    // Decode as `esper caption` and the studio do, so the figures describe what users see.
    CaptionOptions decoding;
    decoding.decode = captioner.bundle().decoding;
    std::vector<CaptionStyle> styles;
    if (o.styles.empty())
        styles = captioner.bundleStyles();
    else
        for (const auto& s : o.styles)
            styles.push_back(styleFromName(s));
    if (styles.empty()) return fail("the bundle names no styles; choose some");

    WorldEvalReport report;
    report.scenes = o.scenes;
    report.modality = o.modality;
    std::vector<CaptionCheck> totals(styles.size());
    std::vector<double> precision(styles.size()), recall(styles.size()), clipS(styles.size());
    std::vector<std::array<double, 3>> f1ByObjects(styles.size()); // summed; their sum is F1's
    std::vector<EvalSet> sets(styles.size());
    std::mt19937_64 rng(o.worldSeed * 31 + 5); // the reference texts
    for (int i = 0; i < o.scenes; ++i) {
        if (o.cancel && o.cancel->load()) return cancelledError();
        const uint64_t index = o.firstScene + static_cast<uint64_t>(i);
        const Scene scene = generateScene(o.worldSeed, index);
        const std::string key = "world-" + std::to_string(index);
        auto r = o.modality == Modality::Audio
                     ? captioner.captionAudio(renderSceneSound(scene), key, styles, decoding, {},
                                              o.cancel)
                     : captioner.caption(renderScene(scene, o.imageSize, o.imageSize), key, styles,
                                         decoding, {}, o.cancel);
        ESPER_TRY(r);
        WorldSceneCaptions row{index, {}, {}};
        const size_t objects = std::clamp<size_t>(scene.objects.size(), 1, 3) - 1;
        ++report.scenesByObjects[objects];
        for (size_t s = 0; s < styles.size(); ++s) {
            const std::string& text = r->captions[s].text;
            const CaptionCheck c = checkCaption(text, scene);
            precision[s] += c.precision();
            recall[s] += c.recall();
            f1ByObjects[s][objects] += c.f1();
            totals[s].mentioned += c.mentioned;
            totals[s].mispaired += c.mispaired;
            totals[s].sizesMentioned += c.sizesMentioned;
            totals[s].sizesCorrect += c.sizesCorrect;
            totals[s].relationsMentioned += c.relationsMentioned;
            totals[s].relationsCorrect += c.relationsCorrect;
            clipS[s] += r->captions[s].score.clipS;
            EvalItem item{std::to_string(index), {}, text};
            for (int k = 0; k < o.referencesPerStyle; ++k)
                item.references.push_back(describeScene(scene, styles[s].id, rng));
            sets[s].push_back(std::move(item));
            row.captions.push_back(text);
            row.f1.push_back(c.f1());
        }
        report.perScene.push_back(std::move(row));
        if (o.onProgress) o.onProgress(i + 1, o.scenes);
    }
    const double n = double(o.scenes);
    for (size_t s = 0; s < styles.size(); ++s) {
        WorldStyleScores w;
        w.style = styles[s].id;
        w.precision = precision[s] / n;
        w.recall = recall[s] / n;
        for (size_t k = 0; k < w.f1ByObjects.size(); ++k) {
            w.f1 += f1ByObjects[s][k] / n;
            w.f1ByObjects[k] = f1ByObjects[s][k] / std::max(report.scenesByObjects[k], 1);
        }
        w.objectsStated = totals[s].mentioned;
        w.mispaired = w.objectsStated ? double(totals[s].mispaired) / w.objectsStated : 0;
        w.sizesStated = totals[s].sizesMentioned;
        w.relationsStated = totals[s].relationsMentioned;
        w.sizeAccuracy = w.sizesStated ? double(totals[s].sizesCorrect) / w.sizesStated : 0;
        w.relationAccuracy =
            w.relationsStated ? double(totals[s].relationsCorrect) / w.relationsStated : 0;
        w.clipS = clipS[s] / n;
        ptbTokenizeSet(sets[s]);
        for (const auto& m : computeTextMetrics(sets[s])) {
            if (m.name == "Bleu_4") w.bleu4 = m.corpus;
            if (m.name == "CIDEr") w.cider = m.corpus;
        }
        report.styles.push_back(w);
    }
    if (!o.clipDir.empty()) {
        auto probes = probeClip(o.clipDir, o.worldSeed, o.firstScene, o.imageSize);
        ESPER_TRY(probes);
        report.clip = probes.value();
    }
    if (!o.lmDir.empty()) {
        auto copy = lmCopyProbe(o.lmDir, o.worldSeed, o.firstScene, kCopyScenes, o.device);
        ESPER_TRY(copy);
        report.lmCopy = std::move(copy.value());
    }
    report.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return report;
}

} // namespace esper::world
