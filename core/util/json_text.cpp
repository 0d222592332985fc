#include "util/json_text.h"

namespace esper {
namespace {

std::string describe(const std::string& text, const nlohmann::json::parse_error& e,
                     const std::string& origin) {
    size_t line = 1, column = 1;
    const size_t at = e.byte ? e.byte - 1 : 0;
    for (size_t i = 0; i < at && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    std::string what = e.what();
    // The parser quotes the bytes it read last; they are left out, so a file that was never
    // JSON (a key, a password file given by mistake) is not echoed into a message or a log.
    if (const size_t read = what.find("; last read: '"); read != std::string::npos) {
        const size_t expected = what.rfind("'; expected ");
        what.erase(read, expected != std::string::npos && expected > read ? expected + 1 - read
                                                                          : std::string::npos);
    }
    const size_t cut = what.find("syntax error");
    return origin + " is not valid JSON (line " + std::to_string(line) + ", column " +
           std::to_string(column) + ")" + (cut == std::string::npos ? "" : ": " + what.substr(cut));
}

template <class Json> Result<Json> parse(const std::string& text, const std::string& origin) {
    try {
        return Json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        return fail(describe(text, e, origin));
    } catch (const nlohmann::json::exception& e) {
        return fail(origin + " is not valid JSON: " + e.what());
    }
}

} // namespace

Result<nlohmann::json> parseJsonText(const std::string& text, const std::string& origin) {
    return parse<nlohmann::json>(text, origin);
}

Result<nlohmann::ordered_json> parseOrderedJsonText(const std::string& text,
                                                    const std::string& origin) {
    return parse<nlohmann::ordered_json>(text, origin);
}

} // namespace esper
