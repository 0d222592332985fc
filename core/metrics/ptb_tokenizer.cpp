#include "metrics/ptb_tokenizer.h"

#include "text/unicode.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <set>

namespace esper {
namespace {

// pycocoevalcap's PUNCTUATIONS: dropped after tokenising. Bracket tokens are listed upper-case
// while the tokens arrive lowercased, so -lrb- and friends survive (a kept quirk).
const std::set<std::string> kDropped = {"''",    "'",     "``", "`",   "-LRB-", "-RRB-",
                                        "-LCB-", "-RCB-", ".",  "?",   "!",     ",",
                                        ":",     "-",     "--", "...", ";"};

// Abbreviations PTBLexer keeps with their period (its ABBREV lists, the common part).
const std::set<std::string> kAbbreviations = {
    "mr",   "mrs",  "ms",  "dr",     "st",   "no",   "jr",   "sr",   "prof",   "gen",  "rep",
    "sen",  "gov",  "lt",  "col",    "capt", "sgt",  "mt",   "ft",   "inc",    "corp", "co",
    "ltd",  "bros", "vs",  "etc",    "jan",  "feb",  "mar",  "apr",  "jun",    "jul",  "aug",
    "sep",  "sept", "oct", "nov",    "dec",  "ave",  "blvd", "rd",   "approx", "dept", "est",
    "fig",  "vol",  "pp",  "messrs", "mme",  "mlle", "hon",  "pres", "supt",   "rev",  "assn",
    "univ", "cf",   "al",  "ca",     "p",    "e.g",  "i.e"};

std::string lowerAscii(std::string s) {
    for (auto& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool isAlpha(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || (c & 0x80);
}
bool isDigit(char c) {
    return std::isdigit(static_cast<unsigned char>(c));
}
bool isAlnum(char c) {
    return isAlpha(c) || isDigit(c);
}

// Rewrites the characters PTBLexer normalises (PTB3 escaping, currency, fractions, dashes,
// ellipsis, Unicode quotes) into the ASCII forms the rest of the rules read.
std::string normalise(std::string_view text) {
    static const std::array<std::pair<const char*, const char*>, 16> map = {{
        {"\xE2\x80\xA6", " ... "}, // …
        {"\xE2\x80\x93", " -- "},  // –
        {"\xE2\x80\x94", " -- "},  // —
        {"\xE2\x80\x9C", " `` "},  // “
        {"\xE2\x80\x9D", " '' "},  // ”
        {"\xE2\x80\x98", "`"},     // ‘
        {"\xE2\x80\x99", "'"},     // ’
        {"\xC2\xA3", "#"},         // £
        {"\xE2\x82\xAC", "$"},     // €
        {"\xC2\xA5", "$"},         // ¥
        {"\xC2\xA2", "cents"},     // ¢
        {"\xC2\xBD", "1/2"},       // ½
        {"\xC2\xBC", "1/4"},       // ¼
        {"\xC2\xBE", "3/4"},       // ¾
        {"\xE2\x85\x93", "1/3"},   // ⅓
        {"\xE2\x85\x94", "2/3"},   // ⅔
    }};
    std::string out(text);
    for (const auto& [from, to] : map) {
        const std::string f(from), t(to);
        for (size_t p = out.find(f); p != std::string::npos; p = out.find(f, p + t.size()))
            out.replace(p, f.size(), t);
    }
    return out;
}

bool isEmoticon(const std::string& w) {
    if (w.size() < 2 || w.size() > 3) return false;
    if (w[0] != ':' && w[0] != ';' && w[0] != '=') return false;
    const char last = w.back();
    if (w.size() == 3 && w[1] != '-' && w[1] != '\'') return false;
    return last == ')' || last == '(' || last == ']' || last == '[' || last == 'D' || last == 'P' ||
           last == 'p';
}

std::string escapeBracket(char c) {
    switch (c) {
    case '(':
        return "-LRB-";
    case ')':
        return "-RRB-";
    case '[':
        return "-LSB-";
    case ']':
        return "-RSB-";
    case '{':
        return "-LCB-";
    case '}':
        return "-RCB-";
    default:
        return std::string(1, c);
    }
}

bool isUrlOrEmail(const std::string& w) {
    if (w.find("://") != std::string::npos || w.rfind("www.", 0) == 0) return true;
    const size_t at = w.find('@');
    return at != std::string::npos && at > 0 && w.find('.', at) != std::string::npos;
}

// A word whose final period belongs to it: acronyms (u.s., a.m., e.g.) and known abbreviations.
bool keepsPeriod(const std::string& word) {
    if (word.empty()) return false;
    bool acronym = word.size() >= 2;
    for (size_t i = 0; i < word.size(); ++i) {
        const bool wantLetter = i % 2 == 0;
        if (wantLetter ? !isAlpha(word[i]) : word[i] != '.') acronym = false;
    }
    if (acronym && word.find('.') != std::string::npos) return true;
    return kAbbreviations.count(lowerAscii(word)) > 0;
}

// Splits a word's clitics the way PTBLexer does: n't, 's 're 'll 've 'd 'm, and the fused forms.
void splitClitics(const std::string& word, std::vector<std::string>& out) {
    const std::string low = lowerAscii(word);
    static const std::array<std::pair<const char*, size_t>, 6> fused = {
        {{"cannot", 3}, {"gonna", 3}, {"gotta", 3}, {"wanna", 3}, {"lemme", 3}, {"gimme", 3}}};
    for (const auto& [form, cut] : fused)
        if (low == form) {
            out.push_back(word.substr(0, cut));
            out.push_back(word.substr(cut));
            return;
        }
    if (low == "y'all") {
        out.push_back(word.substr(0, 2));
        out.push_back(word.substr(2));
        return;
    }
    if (low.size() > 3 && low.compare(low.size() - 3, 3, "n't") == 0) {
        out.push_back(word.substr(0, word.size() - 3));
        out.push_back(word.substr(word.size() - 3));
        return;
    }
    for (const char* clitic : {"'s", "'re", "'ll", "'ve", "'d", "'m"}) {
        const size_t n = std::string(clitic).size();
        if (low.size() > n && low.compare(low.size() - n, n, clitic) == 0 &&
            isAlnum(low[low.size() - n - 1])) {
            out.push_back(word.substr(0, word.size() - n));
            out.push_back(word.substr(word.size() - n));
            return;
        }
    }
    out.push_back(word);
}

void tokenizeChunk(std::string w, std::vector<std::string>& out) {
    if (w.empty()) return;
    if (isEmoticon(w)) {
        out.push_back(w.substr(0, w.size() - 1) + escapeBracket(w.back()));
        return;
    }
    if (w == "``" || w == "''" || w == "--" || w == "..." || w == "-") {
        out.push_back(w);
        return;
    }
    std::vector<std::string> leading, trailing;
    // Opening punctuation.
    while (!w.empty()) {
        if (w.rfind("``", 0) == 0) {
            leading.push_back("``");
            w.erase(0, 2);
        } else if (w[0] == '"') {
            leading.push_back("``");
            w.erase(0, 1);
        } else if (w[0] == '(' || w[0] == '[' || w[0] == '{') {
            leading.push_back(escapeBracket(w[0]));
            w.erase(0, 1);
        } else if ((w[0] == '$' || w[0] == '#') && w.size() > 1 && isDigit(w[1])) {
            leading.push_back(std::string(1, w[0]));
            w.erase(0, 1);
        } else if (w[0] == '`') {
            leading.push_back("`");
            w.erase(0, 1);
        } else if (w[0] == '\'' && w.size() > 1) {
            // '90s and 'n' are words of their own; otherwise an opening single quote.
            const bool decade =
                w.size() >= 4 && isDigit(w[1]) && isDigit(w[2]) && (w[3] == 's' || w[3] == 'S');
            const bool andWord = w.size() >= 3 && (w[1] == 'n' || w[1] == 'N') && w[2] == '\'';
            if (decade || andWord) break;
            if (!isAlnum(w[1])) break;
            leading.push_back("`");
            w.erase(0, 1);
        } else {
            break;
        }
    }
    // Closing punctuation, peeled from the end.
    while (!w.empty()) {
        const char c = w.back();
        if (w.size() >= 3 && w.compare(w.size() - 3, 3, "...") == 0) {
            trailing.push_back("...");
            w.erase(w.size() - 3);
        } else if (w.size() >= 2 && w.compare(w.size() - 2, 2, "''") == 0) {
            trailing.push_back("''");
            w.erase(w.size() - 2);
        } else if (c == '"') {
            trailing.push_back("''");
            w.pop_back();
        } else if (c == '?' || c == '!') {
            size_t start = w.size();
            while (start > 0 && (w[start - 1] == '?' || w[start - 1] == '!'))
                --start;
            trailing.push_back(w.substr(start));
            w.erase(start);
        } else if (c == ',' || c == ';' || c == ':' || c == '%') {
            trailing.push_back(std::string(1, c));
            w.pop_back();
        } else if (c == ')' || c == ']' || c == '}') {
            trailing.push_back(escapeBracket(c));
            w.pop_back();
        } else if (c == '\'' && w.size() > 1) {
            const std::string low = lowerAscii(w);
            if ((low.size() == 3 && low[0] == '\'' && low[1] == 'n') ||
                (low.size() == 2 && (low == "y'")))
                break;
            trailing.push_back("'");
            w.pop_back();
        } else if (c == '.') {
            const std::string stem = w.substr(0, w.size() - 1);
            if (isUrlOrEmail(stem) || !keepsPeriod(stem)) {
                trailing.push_back(".");
                w.pop_back();
            } else {
                break;
            }
        } else {
            break;
        }
    }
    for (auto& t : leading)
        out.push_back(t);
    if (!w.empty()) {
        if (isUrlOrEmail(w))
            out.push_back(w);
        else if (w == "." || w == "-")
            out.push_back(w);
        else
            splitClitics(w, out);
    }
    for (auto it = trailing.rbegin(); it != trailing.rend(); ++it)
        out.push_back(*it);
}

// Punctuation-only strings that PTBLexer merges: ". . ." is one ellipsis.
std::vector<std::string> mergeSpacedEllipses(std::vector<std::string> tokens) {
    std::vector<std::string> out;
    for (size_t i = 0; i < tokens.size(); ++i) {
        if (tokens[i] == "." && i + 2 < tokens.size() && tokens[i + 1] == "." &&
            tokens[i + 2] == ".") {
            out.push_back("...");
            i += 2;
        } else {
            out.push_back(tokens[i]);
        }
    }
    return out;
}

} // namespace

std::vector<std::string> ptbTokenize(std::string_view line) {
    const std::string text = normalise(line);
    std::vector<std::string> tokens;
    const auto cps = unicode::decode(text);
    size_t i = 0;
    while (i < cps.size()) {
        while (i < cps.size() && unicode::isWhitespace(cps[i]))
            ++i;
        size_t j = i;
        while (j < cps.size() && !unicode::isWhitespace(cps[j]))
            ++j;
        if (j > i) tokenizeChunk(unicode::encode(cps, i, j), tokens);
        i = j;
    }
    return mergeSpacedEllipses(std::move(tokens));
}

std::string cocoTokenize(std::string_view caption) {
    std::string joined;
    for (const auto& t : ptbTokenize(caption)) {
        // The Java tool lowercases (-lowerCase) before the wrapper filters, and the list spells
        // brackets upper-case: -lrb- and friends survive.
        const std::string low = unicode::lower(t);
        if (kDropped.count(low)) continue;
        if (!joined.empty()) joined += ' ';
        joined += low;
    }
    return joined;
}

std::vector<std::string> cocoTokenizeBatch(const std::vector<std::string>& captions,
                                           size_t* captionLineBreaks) {
    // The wrapper replaces each caption's "\n" by a space and joins captions with "\n"; the
    // Java lexer then also ends lines at \r, \f, U+0085, U+2028 and U+2029.
    std::vector<std::string> lines(1);
    size_t breaks = 0;
    for (size_t c = 0; c < captions.size(); ++c) {
        if (c > 0) lines.emplace_back();
        const auto cps = unicode::decode(captions[c]);
        bool broke = false;
        for (size_t k = 0; k < cps.size(); ++k) {
            const char32_t ch = cps[k];
            if (ch == U'\n') {
                lines.back() += ' ';
            } else if (ch == U'\r' || ch == U'\f' || ch == 0x85 || ch == 0x2028 || ch == 0x2029) {
                lines.emplace_back();
                broke = true;
            } else {
                lines.back() += unicode::encode(ch);
            }
        }
        breaks += broke;
    }
    if (captionLineBreaks) *captionLineBreaks = breaks;
    std::vector<std::string> out;
    for (size_t c = 0; c < captions.size(); ++c)
        out.push_back(cocoTokenize(lines[c]));
    return out;
}

} // namespace esper
