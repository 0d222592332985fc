// JSON text to a value, with the one error message every reader gives for bad JSON: the file
// (or whatever `origin` names), the line and column, and what the parser saw.
#pragma once

#include "util/result.h"

#include <nlohmann/json.hpp>
#include <string>

namespace esper {

Result<nlohmann::json> parseJsonText(const std::string& text, const std::string& origin);
Result<nlohmann::ordered_json> parseOrderedJsonText(const std::string& text,
                                                    const std::string& origin);

} // namespace esper
