// ESPER's queries: the text the language model continues after the image prefix. ESPER-Free
// draws a sentence-initial word by its frequency (plus "The photo describes a"); ESPER-Style
// prepends "label:" with the label uniform over the chosen styles. The reward reads the init and
// the response, never the label.
#pragma once

#include "text/tokenizer.h"
#include "training/esper/esper_config.h"

#include <map>
#include <random>
#include <string>
#include <vector>

namespace esper {

// Counts the first word of each sentence of `text`: sentences end at ". ", "! ", "? " or a line's
// end, as the official counter split its corpus; sentences under 10 characters, and first
// words without a letter or with a '<' (WikiText's <unk>) or '=' (its headings), are skipped.
std::map<std::string, double> countSentenceInitials(const std::string& text);

struct SentenceInitials {
    std::vector<std::string> words;
    std::vector<double> weights; // unnormalised
};
// The config's list: "english" (compiled in), "none" (empty), a .json {word: frequency} file,
// or any other file as a corpus to count. The sentInitTop most frequent words, then
// extraPrompt with weight (their sum) / extraPromptDivisor.
Result<SentenceInitials> loadSentenceInitials(const EsperConfig& config);

struct Query {
    std::string label;        // empty in free mode
    std::string init;         // the sentence start (may be empty in style mode)
    std::vector<int> ids;     // what the model reads: "label: init" or "init"
    std::vector<int> initIds; // the init's own tokens, the reward text's start
};

class QuerySampler {
public:
    static Result<QuerySampler> create(const EsperConfig& config, const Tokenizer& tokenizer);
    Query draw(std::mt19937_64& rng) const;
    const SentenceInitials& initials() const { return initials_; }

private:
    Query make(const std::string& label, const std::string& init) const;
    const Tokenizer* tokenizer_ = nullptr;
    EsperConfig config_;
    SentenceInitials initials_;
    std::vector<double> probabilities_; // the initials' weights, normalised
};

} // namespace esper
