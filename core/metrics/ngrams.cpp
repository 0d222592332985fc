#include "metrics/ngrams.h"

#include <algorithm>

namespace esper {

std::vector<std::string> splitWhitespace(std::string_view s) {
    std::vector<std::string> out;
    size_t i = 0;
    auto isSpace = [](char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
    };
    while (i < s.size()) {
        while (i < s.size() && isSpace(s[i]))
            ++i;
        size_t j = i;
        while (j < s.size() && !isSpace(s[j]))
            ++j;
        if (j > i) out.emplace_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

int NgramCounts::order(size_t i) const {
    const auto& key = entries[i].first;
    return 1 + static_cast<int>(std::count(key.begin(), key.end(), '\x1f'));
}

NgramCounts countNgrams(const std::vector<std::string>& words, int n) {
    NgramCounts c;
    for (int k = 1; k <= n; ++k) {
        for (size_t i = 0; i + k <= words.size(); ++i) {
            std::string key = words[i];
            for (int j = 1; j < k; ++j)
                key += '\x1f' + words[i + j];
            auto [it, fresh] = c.index.emplace(key, c.entries.size());
            if (fresh)
                c.entries.emplace_back(std::move(key), 1);
            else
                ++c.entries[it->second].second;
        }
    }
    return c;
}

} // namespace esper
