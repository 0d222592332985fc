// Command-line parsing for the `esper` verbs: declared options, clear errors for anything else.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace esper::cli {

struct OptionSpec {
    std::string name; // without the leading "--"
    bool takesValue = true;
    bool repeatable = false;
    bool required = false; // parseVerb reports "--NAME is required" when it is absent
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
    // Numeric flags with their ranges. An absent flag gives `fallback`. A value that is not a
    // number in range (letters, trailing junk, a fraction where a whole number is wanted, a
    // sign where none may be) gives `fallback` too, and the first such problem is kept:
    // a verb reads all its numbers, then reports problem() if there is one.
    int64_t integer(const std::string& name, int64_t fallback, int64_t least,
                    int64_t most = std::numeric_limits<int64_t>::max()) const;
    double real(const std::string& name, double fallback, double least,
                double most = std::numeric_limits<double>::infinity()) const;
    // A real that must be above `above` (a learning rate, a temperature).
    double positive(const std::string& name, double fallback, double above = 0) const;
    const std::string& problem() const { return problem_; }
    const std::vector<std::string>& positional() const { return positional_; }

private:
    // The value of --name when `parse` reads it and `fits` accepts it; otherwise `fallback`,
    // and the first problem is kept as "--NAME takes WHAT, not 'TEXT'".
    template <class T, class Parse, class Fits>
    T checked(const std::string& name, T fallback, Parse parse, Fits fits,
              const std::string& what) const;

    std::map<std::string, std::vector<std::string>> values_;
    std::vector<std::string> positional_;
    mutable std::string problem_;
};

// Reads a whole-number flag into `into`, which keeps its value when the flag is absent or wrong
// (the problem is then left in args.problem()).
template <class T>
void readWhole(const Args& args, const char* name, T& into, int64_t least,
               int64_t most = std::numeric_limits<int64_t>::max()) {
    into = static_cast<T>(args.integer(name, static_cast<int64_t>(into), least, most));
}

// A whole number written in full ("64", "-3"); nothing for "", "6x", "1e3" or "2.5".
std::optional<int64_t> parseWhole(const std::string& text);
// A finite number written in full ("0.5", "1e-5"); nothing for "", "x", "2s" or "inf".
std::optional<double> parseReal(const std::string& text);

// Prints "esper VERB: message" (and the help, when given) to stderr; returns `code`.
int report(const char* verb, const std::string& message, int code, const char* help = nullptr);

} // namespace esper::cli
