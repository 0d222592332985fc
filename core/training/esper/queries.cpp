#include "training/esper/queries.h"

#include "util/embedded.h"
#include "util/file_util.h"
#include "util/json_text.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <numeric>

namespace esper {
namespace {

bool acceptable(const std::string& word) {
    if (word.find('<') != std::string::npos || word.find('=') != std::string::npos) return false;
    return std::any_of(word.begin(), word.end(),
                       [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
}

Result<std::map<std::string, double>> frequenciesFromJson(const std::string& text,
                                                          const std::string& origin) {
    auto parsed = parseJsonText(text, origin);
    ESPER_TRY(parsed);
    if (!parsed->is_object())
        return fail(origin + " must map sentence-initial words to their frequencies");
    std::map<std::string, double> out;
    for (const auto& [word, value] : parsed->items()) {
        if (!value.is_number() || value.get<double>() < 0)
            return fail(origin + ": the frequency of \"" + word + "\" must be a number >= 0");
        out[word] = value.get<double>();
    }
    return out;
}

} // namespace

std::map<std::string, double> countSentenceInitials(const std::string& text) {
    std::map<std::string, double> counts;
    auto sentence = [&](std::string_view s) {
        while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
            s.remove_prefix(1);
        if (s.size() < 10) return;
        const size_t end = s.find_first_of(" \t");
        const std::string word(s.substr(0, end));
        if (acceptable(word)) counts[word] += 1;
    };
    size_t start = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const bool lineEnd = c == '\n';
        const bool stop =
            (c == '.' || c == '!' || c == '?') && i + 1 < text.size() && text[i + 1] == ' ';
        if (!lineEnd && !stop) continue;
        sentence(std::string_view(text).substr(start, i - start));
        start = i + 1;
    }
    sentence(std::string_view(text).substr(std::min(start, text.size())));
    return counts;
}

Result<SentenceInitials> loadSentenceInitials(const EsperConfig& c) {
    SentenceInitials out;
    if (c.sentInit == "none") return out;
    std::map<std::string, double> frequencies;
    if (c.sentInit == "english") {
        auto f = frequenciesFromJson(embedded::sentInitEnglishJson, "the built-in English list");
        ESPER_TRY(f);
        frequencies = std::move(f.value());
    } else {
        auto text = readTextFile(c.sentInit);
        if (!text)
            return fail("sent_init: " + text.error() +
                        " (give \"english\", \"none\", a .json word list or a text corpus)");
        if (std::filesystem::path(c.sentInit).extension() == ".json") {
            auto f = frequenciesFromJson(text.value(), c.sentInit);
            ESPER_TRY(f);
            frequencies = std::move(f.value());
        } else {
            frequencies = countSentenceInitials(text.value());
        }
    }
    std::vector<std::pair<std::string, double>> ranked(frequencies.begin(), frequencies.end());
    // By frequency, ties by word, so the list is the same on every machine.
    std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    if (ranked.size() > size_t(c.sentInitTop)) ranked.resize(size_t(c.sentInitTop));
    ranked.erase(
        std::remove_if(ranked.begin(), ranked.end(), [](const auto& r) { return !(r.second > 0); }),
        ranked.end());
    if (ranked.empty())
        return fail("sent_init '" + c.sentInit + "' holds no sentence-initial word");
    for (const auto& [word, weight] : ranked) {
        out.words.push_back(word);
        out.weights.push_back(weight);
    }
    if (!c.extraPrompt.empty() && c.extraPromptDivisor > 0) {
        out.words.push_back(c.extraPrompt);
        out.weights.push_back(std::accumulate(out.weights.begin(), out.weights.end(), 0.0) /
                              c.extraPromptDivisor);
    }
    return out;
}

Result<QuerySampler> QuerySampler::create(const EsperConfig& config, const Tokenizer& tokenizer) {
    auto initials = loadSentenceInitials(config);
    ESPER_TRY(initials);
    QuerySampler s;
    s.tokenizer_ = &tokenizer;
    s.config_ = config;
    s.initials_ = std::move(initials.value());
    const double total =
        std::accumulate(s.initials_.weights.begin(), s.initials_.weights.end(), 0.0);
    for (double w : s.initials_.weights)
        s.probabilities_.push_back(w / total);
    if (config.mode == "free" && s.initials_.words.empty())
        return fail("free mode needs sentence-initial words");
    return s;
}

Query QuerySampler::make(const std::string& label, const std::string& init) const {
    Query q{label, init, {}, {}};
    if (label.empty()) {
        q.initIds = tokenizer_->encode(init);
        q.ids = q.initIds;
        return q;
    }
    q.ids = tokenizer_->encode(label + ":");
    if (!init.empty()) {
        q.initIds = tokenizer_->encode(" " + init);
        q.ids.insert(q.ids.end(), q.initIds.begin(), q.initIds.end());
    }
    return q;
}

Query QuerySampler::draw(std::mt19937_64& rng) const {
    // Hand-rolled draws rather than the standard distributions' operator(): their algorithms
    // differ between standard libraries, and a run must draw the same queries everywhere.
    auto uniform = [&](size_t n) { return static_cast<size_t>(rng() % n); };
    auto weighted = [&] {
        const auto& p = probabilities_;
        double u = double(rng() >> 11) * 0x1.0p-53;
        for (size_t i = 0; i < p.size(); ++i) {
            if (u < p[i]) return i;
            u -= p[i];
        }
        return p.size() - 1;
    };
    if (config_.mode == "free") return make("", initials_.words[weighted()]);
    const std::string& label = config_.styles[uniform(config_.styles.size())];
    std::string init = initials_.words.empty() ? "" : initials_.words[weighted()];
    if (label == "dialogue") init = config_.dialogueInit;
    return make(label, init);
}

} // namespace esper
