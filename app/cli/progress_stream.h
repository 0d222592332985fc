// `--progress json`: a training verb's progress as one JSON object per line on stderr, for a
// program that drives the training as a child process (the studio's Training page):
//   {"event": "message", "text": "..."}
//   {"event": "iteration", "done": N, "planned": N or 0, "seconds_left": S or null,
//    "metrics": {name: value, ...}}
//   {"event": "preview", "iteration": N, "captions": [{"image", "style", "text"}, ...]}
// Without it the same events are printed for a person. The result stays on stdout either way.
#pragma once

#include "training/esper/esper_trainer.h"

#include <map>
#include <string>
#include <vector>

namespace esper::cli {

class ProgressStream {
public:
    ProgressStream(const char* verb, bool json);
    bool json() const { return json_; }
    void message(const std::string& text) const;
    // `line` is what a person sees; the metrics are what a program reads.
    void iteration(int done, int planned, double secondsLeft,
                   const std::map<std::string, double>& metrics, const std::string& line) const;
    void preview(int iteration, const std::vector<PreviewCaption>& captions) const;
    void finishLine() const; // ends a progress line a terminal kept rewriting

private:
    const char* verb_;
    bool json_, tty_;
};

// The value of --progress: "json", or empty for a person; anything else is a usage problem.
bool progressIsJson(const std::string& value, std::string& problem);

} // namespace esper::cli
