// Command-line parsing for the `esper` verbs: declared options, clear errors for anything else.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace esper::cli {

struct OptionSpec {
    std::string name; // without the leading "--"
    bool takesValue = true;
    bool repeatable = false;
};

class Args {
public:
    // The start every verb shares: parses argv after the verb with --help added, prints the help
    // (returns 0) or the problem and the help (returns 2) when the verb must stop; otherwise
    // returns nothing. `exactPositional` >= 0 demands that many positional arguments.
    std::optional<int> parseVerb(int argc, char** argv, const char* verb, const char* help,
                                 std::vector<OptionSpec> specs, int exactPositional = -1,
                                 const char* positionalProblem = nullptr);

    // Parses argv after the verb. Returns an error message, or empty on success.
    std::string parse(int argc, char** argv, int first, const std::vector<OptionSpec>& specs);

    bool has(const std::string& name) const { return values_.count(name) > 0; }
    std::string get(const std::string& name, const std::string& fallback = "") const;
    std::vector<std::string> all(const std::string& name) const;
    // The comma-separated items of an option's value ("a,b" -> {"a", "b"}), empty ones kept so
    // a verb can refuse them.
    std::vector<std::string> items(const std::string& name) const;
    std::optional<double> number(const std::string& name) const;
    const std::vector<std::string>& positional() const { return positional_; }

private:
    std::map<std::string, std::vector<std::string>> values_;
    std::vector<std::string> positional_;
};

// Prints "esper VERB: message" (and the help, when given) to stderr; returns `code`.
int report(const char* verb, const std::string& message, int code, const char* help = nullptr);

} // namespace esper::cli
