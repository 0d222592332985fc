// JSON text to a value, with the one error message every reader gives for bad JSON: the file
// (or whatever `origin` names), the line and column, and what the parser saw.
#pragma once

#include "util/result.h"

#include <nlohmann/json.hpp>
#include <string>

namespace esper {

// JSON text from a value. Strings here are often bytes from outside (file names, captions,
// dataset ids) that may not be UTF-8; JSON must be, so such bytes are written as U+FFFD instead
// of the writer throwing and a whole output being lost. Every JSON the project writes goes
// through this.
template <class Json> std::string dumpJson(const Json& j, int indent = -1) {
    return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

Result<nlohmann::json> parseJsonText(const std::string& text, const std::string& origin);
Result<nlohmann::ordered_json> parseOrderedJsonText(const std::string& text,
                                                    const std::string& origin);

} // namespace esper
