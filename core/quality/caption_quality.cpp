#include "quality/caption_quality.h"

#include "styles/style_presets.h"
#include "text/unicode.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

namespace esper {

namespace {

// Lower-case words without the punctuation around them.
std::vector<std::string> words(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(unicode::lower(text));
    for (std::string w; in >> w;) {
        size_t a = 0, b = w.size();
        while (a < b && std::ispunct(static_cast<unsigned char>(w[a])))
            ++a;
        while (b > a && std::ispunct(static_cast<unsigned char>(w[b - 1])))
            --b;
        if (b > a) out.push_back(w.substr(a, b - a));
    }
    return out;
}

// Words a complete English caption does not end on: a generator cut at its token limit
// usually stops on one of them.
bool danglingWord(const std::string& w) {
    static const std::set<std::string> kWords = {
        "a",    "an",   "the",  "and",   "or",   "but", "of",   "with", "to",   "in",
        "on",   "at",   "by",   "for",   "from", "as",  "into", "onto", "over", "under",
        "near", "next", "that", "which", "who",  "is",  "are",  "was",  "its",  "their"};
    return kWords.count(w) > 0;
}

// The most repeated n-gram (n = 1..4) and how often: repeated back to back ("a dog and a dog
// and a dog"), or, for three words or more, anywhere in the caption. Scattered repeats of one
// or two words ("a little ..., a little ... and a little ...") are ordinary English.
std::pair<std::string, int> mostRepeated(const std::vector<std::string>& w) {
    std::pair<std::string, int> best{"", 0};
    auto gramAt = [&](size_t i, size_t n) {
        std::string gram = w[i];
        for (size_t k = 1; k < n; ++k)
            gram += " " + w[i + k];
        return gram;
    };
    for (size_t n = 1; n <= 4; ++n) {
        std::map<std::string, int> count;
        for (size_t i = 0; i + n <= w.size(); ++i) {
            int run = 1;
            while (i + (run + 1) * n <= w.size() &&
                   std::equal(w.begin() + i, w.begin() + i + n, w.begin() + i + run * n))
                ++run;
            const int anywhere = n >= 3 ? ++count[gramAt(i, n)] : 0;
            const int times = std::max(run, anywhere);
            if (times > best.second) best = {gramAt(i, n), times};
        }
    }
    return best;
}

std::set<std::string> trigrams(const std::vector<std::string>& w) {
    std::set<std::string> out;
    for (size_t i = 0; i + 3 <= w.size(); ++i)
        out.insert(w[i] + " " + w[i + 1] + " " + w[i + 2]);
    if (out.empty() && !w.empty()) {
        std::string all;
        for (const auto& x : w)
            all += x + " ";
        out.insert(all);
    }
    return out;
}

double jaccard(const std::set<std::string>& a, const std::set<std::string>& b) {
    if (a.empty() || b.empty()) return 0;
    size_t shared = 0;
    for (const auto& x : a)
        shared += b.count(x);
    return double(shared) / double(a.size() + b.size() - shared);
}

void add(CaptionQuality& q, QualityFlag f, std::string reason) {
    if (std::find(q.flags.begin(), q.flags.end(), f) != q.flags.end()) return;
    q.flags.push_back(f);
    q.reasons.push_back(std::move(reason));
}

std::string shown(double v) {
    char out[32];
    std::snprintf(out, sizeof out, "%.3f", v);
    return out;
}

} // namespace

const char* qualityFlagName(QualityFlag f) {
    // In the order of the enum.
    static const char* const kNames[] = {"repetition", "unfinished",     "too_short",
                                         "low_clip_s", "near_duplicate", "leaked_prompt"};
    return kNames[static_cast<int>(f)];
}

CaptionQuality checkCaption(const CaptionToCheck& c, const QualityOptions& o) {
    CaptionQuality q;
    const auto w = words(c.text);
    if (static_cast<int>(w.size()) < o.minWords)
        add(q, QualityFlag::TooShort,
            w.empty() ? "the caption is empty"
                      : "only " + std::to_string(w.size()) + " word(s), fewer than " +
                            std::to_string(o.minWords));
    const auto [gram, times] = mostRepeated(w);
    if (times >= o.repeatedNgramTimes)
        add(q, QualityFlag::Repetition,
            "'" + gram + "' occurs " + std::to_string(times) + " times");
    if (c.hitTokenLimit.value_or(false))
        add(q, QualityFlag::Unfinished, "it stopped at the token limit, not at its end");
    else if (!w.empty() && danglingWord(w.back()))
        add(q, QualityFlag::Unfinished, "it ends on '" + w.back() + "'");
    else if (!c.text.empty() &&
             (c.text.back() == ',' || c.text.back() == ':' || c.text.back() == ';'))
        add(q, QualityFlag::Unfinished, std::string("it ends on '") + c.text.back() + "'");
    std::vector<std::string> prompts = o.prompts;
    if (prompts.empty())
        for (const auto& p : builtinStylePresets())
            if (p.prompt.size() > 1 && p.prompt.back() == ':') prompts.push_back(p.prompt);
    const std::string text = unicode::lower(c.text);
    for (const auto& p : prompts)
        if (text.find(unicode::lower(p)) != std::string::npos) {
            add(q, QualityFlag::LeakedPrompt, "the style prompt '" + p + "' is in the text");
            break;
        }
    return q;
}

std::vector<CaptionQuality> checkCaptions(const std::vector<CaptionToCheck>& captions,
                                          const QualityOptions& o) {
    std::vector<CaptionQuality> out;
    out.reserve(captions.size());
    for (const auto& c : captions)
        out.push_back(checkCaption(c, o));
    // CLIP-S against the distribution of its group (a style's captions score alike).
    struct Moments {
        double sum = 0, squares = 0;
        size_t n = 0;
    };
    std::map<std::string, Moments> groups;
    for (const auto& c : captions)
        if (c.clipS) {
            auto& m = groups[c.group];
            m.sum += *c.clipS;
            m.squares += *c.clipS * *c.clipS;
            ++m.n;
        }
    for (size_t i = 0; i < captions.size(); ++i) {
        if (!captions[i].clipS) continue;
        const Moments& m = groups[captions[i].group];
        if (m.n < 10) continue;
        const double mean = m.sum / double(m.n);
        const double sd = std::sqrt(std::max(0.0, m.squares / double(m.n) - mean * mean));
        const double floor = mean - o.lowClipSSigmas * sd;
        if (sd > 0 && *captions[i].clipS < floor)
            add(out[i], QualityFlag::LowClipS,
                "CLIP-S " + shown(*captions[i].clipS) + " is below " + shown(floor) +
                    " (the mean " + shown(mean) +
                    (captions[i].group.empty() ? "" : " of '" + captions[i].group + "'") +
                    " less " + shown(o.lowClipSSigmas) + " standard deviations)");
    }
    // Each caption against the one before and the one after it.
    std::vector<std::set<std::string>> shingles;
    shingles.reserve(captions.size());
    for (const auto& c : captions)
        shingles.push_back(trigrams(words(c.text)));
    for (size_t i = 0; i + 1 < captions.size(); ++i) {
        const double j = jaccard(shingles[i], shingles[i + 1]);
        if (j < o.duplicateJaccard) continue;
        const std::string why =
            "much like its neighbour's caption (word-trigram overlap " + shown(j) + ")";
        add(out[i], QualityFlag::NearDuplicate, why);
        add(out[i + 1], QualityFlag::NearDuplicate, why);
    }
    return out;
}

} // namespace esper
