// Quality checks on captions, for finding what needs review in a dataset: a repetition loop, a
// caption cut off before it ended, an empty or very short one, a CLIP-S low for its dataset, a
// caption much like its neighbour's, a style prompt that leaked into the text. Torch-free: the
// studio's review table, `esper quality` and JSONL export use the same checks.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace esper {

enum class QualityFlag { Repetition, Unfinished, TooShort, LowClipS, NearDuplicate, LeakedPrompt };
const char* qualityFlagName(QualityFlag f); // "repetition", "unfinished", ...

struct QualityOptions {
    int minWords = 3;              // fewer words: too short (an empty caption always is)
    int repeatedNgramTimes = 3;    // an n-gram (n = 1..4) occurring this often in a row or
                                   // spread over the caption is a loop
    double lowClipSSigmas = 2.0;   // CLIP-S below mean - this many standard deviations
    double duplicateJaccard = 0.8; // word-trigram similarity with the previous or next caption
    // Prompts that must not appear in a caption ("caption:", "news:", ...; default: the presets).
    std::vector<std::string> prompts;
};

struct CaptionToCheck {
    std::string text;
    std::optional<double> clipS{};       // when scored
    std::optional<bool> hitTokenLimit{}; // when the generator says whether it stopped on its own
    std::string group{}; // CLIP-S is judged among captions of the same group (e.g. the style)
};

struct CaptionQuality {
    std::vector<QualityFlag> flags;
    std::vector<std::string> reasons; // one per flag, for people
    bool flagged() const { return !flags.empty(); }
};

// The checks that need only the caption itself.
CaptionQuality checkCaption(const CaptionToCheck& c, const QualityOptions& o = {});
// Every caption of a dataset, in its order: the single checks, CLIP-S against the others of its
// group (with at least 10 scored there), and each caption against its neighbours.
std::vector<CaptionQuality> checkCaptions(const std::vector<CaptionToCheck>& captions,
                                          const QualityOptions& o = {});

} // namespace esper
