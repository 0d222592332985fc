// Child processes for the Java-based metrics (METEOR's line protocol, SPICE's file protocol).
#pragma once

#include "util/result.h"

#include <memory>
#include <string>
#include <vector>

namespace esper {

// The full path of an executable on PATH, or empty.
std::string findOnPath(const std::string& name);

// A child with its stdin and stdout connected to us, for line-oriented protocols. Its stderr is
// captured to a temporary file so a failure can be explained.
class LineProcess {
public:
    static Result<std::unique_ptr<LineProcess>> start(const std::vector<std::string>& argv,
                                                      const std::string& workDir = "");
    ~LineProcess();
    Result<void> writeLine(const std::string& line);
    Result<std::string> readLine();
    // Closes stdin and waits; returns the exit status.
    int finish();
    std::string errorOutput() const;

private:
    LineProcess() = default;
    int pid_ = -1, in_ = -1, out_ = -1;
    std::string stderrPath_, buffer_;
};

// Runs argv to completion; stdout and stderr go to `output`. Returns the exit status.
Result<int> runProcess(const std::vector<std::string>& argv, std::string* output,
                       const std::string& workDir = "");

} // namespace esper
