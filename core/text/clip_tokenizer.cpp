#include "text/clip_tokenizer.h"

#include "text/unicode.h"
#include "util/file_util.h"

#include <filesystem>
#include <zlib.h>

namespace esper {
namespace {

// The merges CLIP uses: lines 1..48894 of the merges file (49152 - 256 - 2 of them).
constexpr size_t kClipMerges = 49152 - 256 - 2;
constexpr const char* kSot = "<|startoftext|>";
constexpr const char* kEot = "<|endoftext|>";

// Python's html.unescape for numeric references and the entities captions realistically carry.
std::string htmlUnescape(std::string_view s) {
    static const std::pair<const char*, const char*> named[] = {
        {"amp", "&"},  {"lt", "<"},          {"gt", ">"}, {"quot", "\""},
        {"apos", "'"}, {"nbsp", "\xC2\xA0"}, {"#39", "'"}};
    std::string out;
    for (size_t i = 0; i < s.size();) {
        if (s[i] != '&') {
            out += s[i++];
            continue;
        }
        const size_t semi = s.find(';', i);
        if (semi != std::string_view::npos && semi - i <= 10) {
            std::string_view body = s.substr(i + 1, semi - i - 1);
            if (body.size() > 1 && body[0] == '#') {
                const bool hex = body[1] == 'x' || body[1] == 'X';
                const std::string digits(body.substr(hex ? 2 : 1));
                char* endp = nullptr;
                const unsigned long cp = std::strtoul(digits.c_str(), &endp, hex ? 16 : 10);
                if (!digits.empty() && endp && *endp == '\0' && cp > 0 && cp <= 0x10FFFF &&
                    !(cp >= 0xD800 && cp <= 0xDFFF)) {
                    out += unicode::encode(static_cast<char32_t>(cp));
                    i = semi + 1;
                    continue;
                }
            }
            bool matched = false;
            for (auto [name, value] : named)
                if (body == name) {
                    out += value;
                    i = semi + 1;
                    matched = true;
                    break;
                }
            if (matched) continue;
        }
        out += s[i++];
    }
    return out;
}

std::string collapseWhitespace(std::string_view text) {
    const auto cps = unicode::decode(text);
    std::string out;
    bool pendingSpace = false;
    for (char32_t c : cps) {
        if (unicode::isWhitespace(c)) {
            pendingSpace = !out.empty();
            continue;
        }
        if (pendingSpace) out += ' ';
        pendingSpace = false;
        out += unicode::encode(c);
    }
    return out;
}

Result<std::string> readMaybeGzip(const std::string& path) {
    auto raw = readTextFile(path);
    if (!raw) return raw;
    const std::string& bytes = raw.value();
    if (bytes.size() < 2 || static_cast<unsigned char>(bytes[0]) != 0x1f ||
        static_cast<unsigned char>(bytes[1]) != 0x8b)
        return raw;
    z_stream zs{};
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return fail("zlib failed to start");
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    zs.avail_in = static_cast<uInt>(bytes.size());
    std::string out;
    char buf[1 << 16];
    int rc = Z_OK;
    while (rc == Z_OK) {
        zs.next_out = reinterpret_cast<Bytef*>(buf);
        zs.avail_out = sizeof buf;
        rc = inflate(&zs, Z_NO_FLUSH);
        out.append(buf, sizeof buf - zs.avail_out);
    }
    inflateEnd(&zs);
    if (rc != Z_STREAM_END) return fail("'" + path + "' is not a valid gzip file");
    return out;
}

} // namespace

std::string clipCleanText(std::string_view text) {
    std::string s = unicode::nfc(text);
    s = htmlUnescape(htmlUnescape(s));
    return unicode::lower(collapseWhitespace(s));
}

std::vector<std::string> clipPreTokenize(std::string_view cleaned) {
    const auto s = unicode::decode(cleaned);
    const std::string text(cleaned);
    std::vector<std::string> pieces;
    auto startsWith = [&](size_t i, const char* lit) {
        for (size_t k = 0; lit[k]; ++k)
            if (i + k >= s.size() || s[i + k] != static_cast<char32_t>(lit[k])) return false;
        return true;
    };
    size_t i = 0;
    while (i < s.size()) {
        size_t end = i;
        if (startsWith(i, kSot))
            end = i + 15;
        else if (startsWith(i, kEot))
            end = i + 13;
        else if (s[i] == U'\'' &&
                 (startsWith(i, "'re") || startsWith(i, "'ve") || startsWith(i, "'ll")))
            end = i + 3;
        else if (s[i] == U'\'' && (startsWith(i, "'s") || startsWith(i, "'t") ||
                                   startsWith(i, "'m") || startsWith(i, "'d")))
            end = i + 2;
        else if (unicode::isLetter(s[i])) {
            while (end < s.size() && unicode::isLetter(s[end]))
                ++end;
        } else if (unicode::isNumber(s[i])) {
            end = i + 1;
        } else if (!unicode::isWhitespace(s[i])) {
            while (end < s.size() && !unicode::isWhitespace(s[end]) && !unicode::isLetter(s[end]) &&
                   !unicode::isNumber(s[end]))
                ++end;
        } else {
            ++i; // whitespace separates matches and is not part of any
            continue;
        }
        pieces.push_back(unicode::encode(s, i, end));
        i = end;
    }
    return pieces;
}

ClipTokenizer::ClipTokenizer(ByteLevelBpe bpe) : bpe_(std::move(bpe)) {
    sot_ = bpe_.tokenId(kSot);
    eot_ = bpe_.tokenId(kEot);
}

Result<std::unique_ptr<ClipTokenizer>> ClipTokenizer::loadOpenAi(const std::string& bpePath) {
    auto text = readMaybeGzip(bpePath);
    ESPER_TRY(text);
    auto merges = ByteLevelBpe::parseMerges(text.value(), kClipMerges);
    if (merges.size() != kClipMerges)
        return fail("'" + bpePath + "' holds " + std::to_string(merges.size()) +
                    " merges; CLIP's vocabulary needs " + std::to_string(kClipMerges));
    std::unordered_map<std::string, int> vocab;
    int next = 0;
    const auto symbols = ByteLevelBpe::byteSymbolsInVocabOrder();
    for (const auto& s : symbols)
        vocab.emplace(s, next++);
    for (const auto& s : symbols)
        vocab.emplace(s + "</w>", next++);
    for (const auto& [a, b] : merges)
        vocab.emplace(a + b, next++);
    vocab.emplace(kSot, next++);
    vocab.emplace(kEot, next++);
    return std::unique_ptr<ClipTokenizer>(
        new ClipTokenizer(ByteLevelBpe(std::move(merges), std::move(vocab), "</w>")));
}

Result<std::unique_ptr<ClipTokenizer>> ClipTokenizer::loadHf(const std::string& vocabPath,
                                                             const std::string& mergesPath) {
    auto files = readBpeFiles(vocabPath, mergesPath, kClipMerges);
    ESPER_TRY(files);
    if (!files->vocab.count(kSot) || !files->vocab.count(kEot))
        return fail(vocabPath + " lacks <|startoftext|> or <|endoftext|>");
    return std::unique_ptr<ClipTokenizer>(
        new ClipTokenizer(ByteLevelBpe(std::move(files->merges), std::move(files->vocab), "</w>")));
}

Result<std::unique_ptr<ClipTokenizer>> ClipTokenizer::fromDirectory(const std::string& dir) {
    namespace fs = std::filesystem;
    const fs::path d(dir);
    if (fs::exists(d / "vocab.json") && fs::exists(d / "merges.txt"))
        return loadHf((d / "vocab.json").string(), (d / "merges.txt").string());
    for (const char* name : {"bpe_simple_vocab_16e6.txt.gz", "bpe_simple_vocab_16e6.txt"})
        if (fs::exists(d / name)) return loadOpenAi((d / name).string());
    return fail("'" + dir +
                "' has no CLIP tokenizer files (vocab.json + merges.txt, or "
                "bpe_simple_vocab_16e6.txt.gz)");
}

std::vector<int> ClipTokenizer::encode(std::string_view text) const {
    std::vector<int> ids;
    for (const auto& piece : clipPreTokenize(clipCleanText(text))) {
        if (piece == kSot)
            ids.push_back(sot_);
        else if (piece == kEot)
            ids.push_back(eot_);
        else
            bpe_.encodePiece(piece, ids);
    }
    return ids;
}

std::vector<int> clipSequence(const std::vector<int>& body, int start, int end, int context) {
    std::vector<int> ids{start};
    ids.insert(ids.end(), body.begin(), body.end());
    ids.push_back(end);
    if (context > 0 && ids.size() > static_cast<size_t>(context)) {
        ids.resize(static_cast<size_t>(context));
        ids.back() = end;
    }
    return ids;
}

std::vector<int> ClipTokenizer::encodeForModel(std::string_view text, int context) const {
    return clipSequence(encode(text), sot_, eot_, context);
}

std::string ClipTokenizer::decode(const std::vector<int>& ids) const {
    return bpe_.decode(ids);
}

} // namespace esper
