#include "metrics/java_metrics.h"

#include "util/file_util.h"
#include "util/json_text.h"
#include "util/subprocess.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

namespace esper {
namespace {

namespace fs = std::filesystem;

Result<std::string> javaFor(const JavaTools& tools, const std::string& jar, const char* metric) {
    if (jar.empty()) return fail(std::string(metric) + " not computed: no jar given");
    if (!fs::exists(jar))
        return fail(std::string(metric) + " not computed: '" + jar + "' does not exist");
    const std::string java = findOnPath(tools.java.empty() ? "java" : tools.java);
    if (java.empty())
        return fail(std::string(metric) +
                    " not computed: no Java runtime found (install one, e.g. default-jre, or "
                    "pass its path)");
    return java;
}

Result<double> number(const std::string& line, const char* what) {
    char* end = nullptr;
    const double v = std::strtod(line.c_str(), &end);
    if (line.empty() || (end && *end && !std::isspace(static_cast<unsigned char>(*end))))
        return fail(std::string(what) + " answered '" + line + "' where a number was expected");
    return v;
}

std::string replaceAll(std::string s, const std::string& from, const std::string& to) {
    for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
        s.replace(p, from.size(), to);
    return s;
}

} // namespace

Result<MetricResult> meteor(const EvalSet& set, const JavaTools& tools) {
    auto java = javaFor(tools, tools.meteorJar, "METEOR");
    ESPER_TRY(java);
    const fs::path jar = fs::absolute(tools.meteorJar);
    auto proc = LineProcess::start(
        {java.value(), "-jar", "-Xmx2G", jar.string(), "-", "-", "-stdio", "-l", "en", "-norm"},
        jar.parent_path().string());
    if (!proc) return fail("METEOR could not start: " + proc.error());
    std::string evalLine = "EVAL";
    for (const auto& item : set) {
        // pycocoevalcap's _stat: no "|||" in the hypothesis, double spaces collapsed once.
        const std::string hyp = replaceAll(replaceAll(item.candidate, "|||", ""), "  ", " ");
        std::string line = "SCORE";
        for (const auto& r : item.references)
            line += " ||| " + r;
        line += " ||| " + hyp;
        if (auto ok = proc.value()->writeLine(line); !ok) return fail("METEOR: " + ok.error());
        auto stats = proc.value()->readLine();
        if (!stats) return fail("METEOR: " + stats.error());
        evalLine += " ||| " + stats.value();
    }
    if (auto ok = proc.value()->writeLine(evalLine); !ok) return fail("METEOR: " + ok.error());
    MetricResult result{"METEOR", 0, {}};
    for (size_t i = 0; i <= set.size(); ++i) {
        auto line = proc.value()->readLine();
        if (!line) return fail("METEOR: " + line.error());
        auto v = number(line.value(), "METEOR");
        ESPER_TRY(v);
        if (i < set.size())
            result.perImage.push_back(v.value());
        else
            result.corpus = v.value();
    }
    proc.value()->finish();
    return result;
}

Result<MetricResult> spice(const EvalSet& set, const JavaTools& tools) {
    auto java = javaFor(tools, tools.spiceJar, "SPICE");
    ESPER_TRY(java);
    const fs::path jar = fs::absolute(tools.spiceJar);
    const fs::path work = fs::temp_directory_path() / ("esper-spice-" + std::to_string(::getpid()));
    std::error_code ec;
    fs::create_directories(work / "cache", ec);
    if (ec) return fail("SPICE: cannot create '" + work.string() + "': " + ec.message());
    nlohmann::json input = nlohmann::json::array();
    for (const auto& item : set)
        input.push_back(
            {{"image_id", item.id}, {"test", item.candidate}, {"refs", item.references}});
    const std::string in = (work / "input.json").string(), out = (work / "output.json").string();
    if (auto ok = writeFileAtomic(in, dumpJson(input)); !ok) return fail("SPICE: " + ok.error());
    std::string log;
    auto status = runProcess({java.value(), "-jar", "-Xmx8G", jar.string(), in, "-cache",
                              (work / "cache").string(), "-out", out, "-subset", "-silent"},
                             &log, jar.parent_path().string());
    auto cleanup = [&] { fs::remove_all(work, ec); };
    if (!status || status.value() != 0) {
        cleanup();
        return fail("SPICE failed: " + (status ? log : status.error()));
    }
    auto text = readTextFile(out);
    cleanup();
    if (!text) return fail("SPICE wrote no output: " + text.error());
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text.value());
    } catch (const nlohmann::json::exception& e) {
        return fail(std::string("SPICE output is not JSON: ") + e.what());
    }
    std::map<std::string, double> byImage;
    for (const auto& r : j) {
        double f = NAN;
        if (r.contains("scores") && r["scores"].contains("All") &&
            r["scores"]["All"].contains("f") && r["scores"]["All"]["f"].is_number())
            f = r["scores"]["All"]["f"].get<double>();
        const auto& id = r["image_id"];
        byImage[id.is_string() ? id.get<std::string>() : dumpJson(id)] = f;
    }
    MetricResult result{"SPICE", 0, {}};
    double sum = 0;
    for (const auto& item : set) {
        auto it = byImage.find(item.id);
        const double f = it == byImage.end() ? NAN : it->second;
        result.perImage.push_back(f);
        sum += f;
    }
    result.corpus = set.empty() ? NAN : sum / static_cast<double>(set.size());
    return result;
}

} // namespace esper
