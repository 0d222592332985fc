#include "progress_stream.h"
#include "util/json_text.h"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace esper::cli {

namespace {
// One line, flushed: the reader acts on each as it arrives.
void emit(const nlohmann::ordered_json& event) {
    std::fprintf(stderr, "%s\n", dumpJson(event).c_str());
    std::fflush(stderr);
}
} // namespace

ProgressStream::ProgressStream(const char* verb, bool json)
    : verb_(verb), json_(json), tty_(!json && ::isatty(2)) {}

void ProgressStream::message(const std::string& text) const {
    if (json_)
        emit({{"event", "message"}, {"text", text}});
    else
        std::fprintf(stderr, "%sesper %s: %s\n", tty_ ? "\r\033[K" : "", verb_, text.c_str());
}

void ProgressStream::iteration(int done, int planned, double secondsLeft,
                               const std::map<std::string, double>& metrics,
                               const std::string& line) const {
    if (!json_) {
        std::fprintf(stderr, "%s%s%s", tty_ ? "\r\033[K" : "", line.c_str(), tty_ ? "" : "\n");
        return;
    }
    nlohmann::ordered_json m = nlohmann::ordered_json::object();
    for (const auto& [name, value] : metrics)
        if (std::isfinite(value)) m[name] = value;
    emit({{"event", "iteration"},
          {"done", done},
          {"planned", planned},
          {"seconds_left",
           std::isfinite(secondsLeft) ? nlohmann::ordered_json(secondsLeft) : nullptr},
          {"metrics", m}});
}

void ProgressStream::preview(int iteration, const std::vector<PreviewCaption>& captions) const {
    if (json_) {
        auto list = nlohmann::ordered_json::array();
        for (const auto& c : captions)
            list.push_back({{"image", c.image}, {"style", c.style}, {"text", c.text}});
        emit({{"event", "preview"}, {"iteration", iteration}, {"captions", list}});
        return;
    }
    finishLine();
    for (const auto& c : captions)
        std::fprintf(stderr, "  [%d] %s%s%s: %s\n", iteration, c.image.c_str(),
                     c.style.empty() ? "" : " ", c.style.c_str(), c.text.c_str());
}

void ProgressStream::finishLine() const {
    if (tty_) std::fprintf(stderr, "\n");
}

bool progressIsJson(const std::string& value, std::string& problem) {
    if (value.empty()) return false;
    if (value != "json") problem = "--progress takes `json`, not '" + value + "'";
    return value == "json";
}

} // namespace esper::cli
