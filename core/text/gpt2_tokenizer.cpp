#include "text/gpt2_tokenizer.h"

#include "text/unicode.h"

#include <filesystem>

namespace esper {
namespace {

enum class CharClass { Letter, Number, Space, Other };

CharClass classify(char32_t c) {
    if (unicode::isLetter(c)) return CharClass::Letter;
    if (unicode::isNumber(c)) return CharClass::Number;
    if (unicode::isWhitespace(c)) return CharClass::Space;
    return CharClass::Other;
}

size_t contractionLength(const std::vector<char32_t>& s, size_t i) {
    if (s[i] != U'\'' || i + 1 >= s.size()) return 0;
    const char32_t a = s[i + 1];
    const char32_t b = i + 2 < s.size() ? s[i + 2] : 0;
    if (a == U's' || a == U't' || a == U'm' || a == U'd') return 2;
    if ((a == U'r' && b == U'e') || (a == U'v' && b == U'e') || (a == U'l' && b == U'l')) return 3;
    return 0;
}

} // namespace

std::vector<std::string> gpt2PreTokenize(std::string_view text) {
    const auto s = unicode::decode(text);
    std::vector<CharClass> cls(s.size());
    for (size_t i = 0; i < s.size(); ++i)
        cls[i] = classify(s[i]);
    auto runEnd = [&](size_t i, CharClass c) {
        while (i < s.size() && cls[i] == c)
            ++i;
        return i;
    };
    std::vector<std::string> pieces;
    size_t i = 0;
    while (i < s.size()) {
        size_t end = i;
        if (size_t n = contractionLength(s, i)) {
            end = i + n;
        } else {
            // " ?X+" for letters, numbers and other: an optional single leading space.
            const size_t body = (s[i] == U' ' && i + 1 < s.size()) ? i + 1 : i;
            const CharClass c = cls[body];
            if (c != CharClass::Space) {
                end = runEnd(body, c);
            } else {
                // \s+(?!\S) takes the whitespace run but leaves its last character when a
                // non-space follows; a lone whitespace character falls to \s+.
                const size_t spaceEnd = runEnd(i, CharClass::Space);
                end = spaceEnd;
                if (spaceEnd < s.size() && spaceEnd - i > 1) end = spaceEnd - 1;
            }
        }
        pieces.push_back(unicode::encode(s, i, end));
        i = end;
    }
    return pieces;
}

Result<std::unique_ptr<Gpt2Tokenizer>> Gpt2Tokenizer::load(const std::string& vocabPath,
                                                           const std::string& mergesPath) {
    auto files = readBpeFiles(vocabPath, mergesPath);
    ESPER_TRY(files);
    return std::unique_ptr<Gpt2Tokenizer>(
        new Gpt2Tokenizer(ByteLevelBpe(std::move(files->merges), std::move(files->vocab), "")));
}

Result<std::unique_ptr<Gpt2Tokenizer>> Gpt2Tokenizer::fromDirectory(const std::string& dir) {
    namespace fs = std::filesystem;
    for (auto [v, m] : {std::pair{"vocab.json", "merges.txt"}, {"encoder.json", "vocab.bpe"}})
        if (fs::exists(fs::path(dir) / v) && fs::exists(fs::path(dir) / m))
            return load((fs::path(dir) / v).string(), (fs::path(dir) / m).string());
    return fail("'" + dir + "' has no GPT-2 tokenizer files (vocab.json + merges.txt)");
}

std::vector<int> Gpt2Tokenizer::encode(std::string_view text) const {
    return encode(text, false);
}

std::vector<int> Gpt2Tokenizer::encode(std::string_view text, bool allowSpecial) const {
    std::vector<int> ids;
    const std::string_view special(kEndOfText);
    while (true) {
        const size_t at = allowSpecial ? text.find(special) : std::string_view::npos;
        for (const auto& piece : gpt2PreTokenize(text.substr(0, at)))
            bpe_.encodePiece(piece, ids);
        if (at == std::string_view::npos) break;
        ids.push_back(endOfTextId());
        text.remove_prefix(at + special.size());
    }
    return ids;
}

std::string Gpt2Tokenizer::decode(const std::vector<int>& ids) const {
    return bpe_.decode(ids);
}

} // namespace esper
