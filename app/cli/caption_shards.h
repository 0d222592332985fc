// `esper caption` across workers: the inputs are shared out deterministically, each worker
// appends its records to OUT.part-R-of-N (each finished item closed by a marker line), and
// worker 0 merges the parts into OUT in input order once all are done. What a stopped worker
// left unfinished is listed, and the same command run again (with any number of workers)
// captions only the items no part has finished.
#pragma once

#include "util/result.h"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace esper::cli {

// Whether parts of OUT are left from a run that did not finish.
bool hasParts(const std::string& out);
// The inputs (indices into `files`) that no part of OUT has finished yet, in input order.
std::vector<size_t> unfinishedItems(const std::string& out, const std::vector<std::string>& files);
// Worker `rank` of `size` takes every size-th of them.
std::vector<size_t> shareOf(const std::vector<size_t>& unfinished, int rank, int size);

// OUT.part-R-of-N, appended to item by item; every write checked and flushed.
class PartWriter {
public:
    PartWriter(const std::string& out, int rank, int size);
    ~PartWriter();
    bool ok() const { return file_ != nullptr; }
    const std::string& path() const { return path_; }
    Result<void> add(const nlohmann::ordered_json& record);
    Result<void> finishItem(const std::string& input); // the marker: this input is complete

private:
    Result<void> write(const std::string& line);
    std::string path_;
    std::FILE* file_ = nullptr;
};

// OUT from every part, records in input order after `leading` (the arguments that could not
// be expanded), written atomically; the parts are removed once OUT is in place.
Result<size_t> mergeParts(const std::string& out, const std::vector<std::string>& files,
                          const std::vector<nlohmann::ordered_json>& leading);

} // namespace esper::cli
