#include "args.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace esper::cli {

std::string Args::parse(int argc, char** argv, int first, const std::vector<OptionSpec>& specs) {
    bool onlyPositional = false;
    for (int i = first; i < argc; ++i) {
        std::string a = argv[i];
        if (onlyPositional || a.size() < 3 || a.rfind("--", 0) != 0) {
            if (a == "--")
                onlyPositional = true;
            else
                positional_.push_back(a);
            continue;
        }
        std::string name = a.substr(2), value;
        const size_t eq = name.find('=');
        const bool inlineValue = eq != std::string::npos;
        if (inlineValue) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
        }
        const OptionSpec* spec = nullptr;
        for (const auto& s : specs)
            if (s.name == name) spec = &s;
        if (!spec) return "unknown option --" + name;
        if (spec->takesValue && !inlineValue) {
            if (i + 1 >= argc) return "option --" + name + " needs a value";
            value = argv[++i];
        }
        if (!spec->takesValue && inlineValue) return "option --" + name + " takes no value";
        if (!spec->repeatable && values_.count(name)) return "option --" + name + " given twice";
        values_[name].push_back(value);
    }
    return {};
}

std::optional<int> Args::parseVerb(int argc, char** argv, const char* verb, const char* help,
                                   std::vector<OptionSpec> specs, int exactPositional,
                                   const char* positionalProblem) {
    specs.push_back({"help", false});
    const std::string err = parse(argc, argv, 2, specs);
    if (has("help")) {
        std::fputs(help, stdout);
        return 0;
    }
    if (!err.empty()) return report(verb, err, 2, help);
    for (const auto& spec : specs)
        if (spec.required && !has(spec.name))
            return report(verb, "--" + spec.name + " is required", 2, help);
    if (exactPositional >= 0 && positional_.size() != static_cast<size_t>(exactPositional))
        return report(verb, positionalProblem ? positionalProblem : "unexpected arguments", 2,
                      help);
    return std::nullopt;
}

int report(const char* verb, const std::string& message, int code, const char* help) {
    std::fprintf(stderr, "esper %s: %s\n", verb, message.c_str());
    if (help) std::fprintf(stderr, "\n%s", help);
    return code;
}

std::string Args::get(const std::string& name, const std::string& fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second.back();
}

std::vector<std::string> Args::all(const std::string& name) const {
    auto it = values_.find(name);
    return it == values_.end() ? std::vector<std::string>{} : it->second;
}

std::vector<std::string> Args::items(const std::string& name) const {
    std::vector<std::string> out;
    const std::string text = get(name);
    for (size_t start = 0; start <= text.size();) {
        const size_t end = std::min(text.find(',', start), text.size());
        out.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

std::optional<int64_t> parseWhole(const std::string& text) {
    int64_t v = 0;
    const char* end = text.data() + text.size();
    const auto [at, ec] = std::from_chars(text.data(), end, v);
    if (text.empty() || ec != std::errc() || at != end) return std::nullopt;
    return v;
}

std::optional<double> parseReal(const std::string& text) {
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || *end || !std::isfinite(v)) return std::nullopt;
    return v;
}

namespace {

std::string range(const std::string& least, const std::string& most, bool unbounded) {
    return unbounded ? ">= " + least : "from " + least + " to " + most;
}

std::string shown(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", v);
    return text;
}

} // namespace

template <class T, class Parse, class Fits>
T Args::checked(const std::string& name, T fallback, Parse parse, Fits fits,
                const std::string& what) const {
    if (!has(name)) return fallback;
    const std::string text = get(name);
    const std::optional<T> v = parse(text);
    if (v && fits(*v)) return *v;
    if (problem_.empty()) problem_ = "--" + name + " takes " + what + ", not '" + text + "'";
    return fallback;
}

int64_t Args::integer(const std::string& name, int64_t fallback, int64_t least,
                      int64_t most) const {
    return checked(
        name, fallback, parseWhole, [&](int64_t v) { return v >= least && v <= most; },
        "a whole number " + range(std::to_string(least), std::to_string(most),
                                  most == std::numeric_limits<int64_t>::max()));
}

double Args::real(const std::string& name, double fallback, double least, double most) const {
    return checked(
        name, fallback, parseReal, [&](double v) { return v >= least && v <= most; },
        "a number " + range(shown(least), shown(most), std::isinf(most)));
}

double Args::positive(const std::string& name, double fallback, double above) const {
    return checked(
        name, fallback, parseReal, [&](double v) { return v > above; },
        "a number above " + shown(above));
}

} // namespace esper::cli
