#include "caption_shards.h"

#include "util/file_util.h"
#include "util/json_text.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <unistd.h>

namespace esper::cli {
namespace {

namespace fs = std::filesystem;
const char* const kDoneKey = "esper_part_done";

// Every part file of OUT, whatever world wrote it.
std::vector<fs::path> partsOf(const std::string& out) {
    std::vector<fs::path> parts;
    const fs::path target(out);
    const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    const std::string prefix = target.filename().string() + ".part-";
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec))
        if (entry.path().filename().string().rfind(prefix, 0) == 0) parts.push_back(entry.path());
    std::sort(parts.begin(), parts.end());
    return parts;
}

// Each finished input's records, by path. A record after the last marker of its item belongs
// to an item a stopped worker did not finish, and is dropped with it.
std::map<std::string, std::vector<nlohmann::ordered_json>> finishedRecords(const std::string& out) {
    std::map<std::string, std::vector<nlohmann::ordered_json>> finished;
    for (const auto& part : partsOf(out)) {
        std::ifstream in(part);
        std::string line;
        std::map<std::string, std::vector<nlohmann::ordered_json>> pending;
        while (std::getline(in, line)) {
            auto record = nlohmann::ordered_json::parse(line, nullptr, false);
            if (record.is_discarded() || !record.is_object()) continue; // a line cut by a kill
            const std::string path = record.value("path", "");
            if (record.contains(kDoneKey)) {
                finished[path] = std::move(pending[path]);
                pending.erase(path);
            } else {
                pending[path].push_back(std::move(record));
            }
        }
    }
    return finished;
}

} // namespace

bool hasParts(const std::string& out) {
    return !partsOf(out).empty();
}

std::vector<size_t> unfinishedItems(const std::string& out, const std::vector<std::string>& files) {
    const auto finished = finishedRecords(out);
    std::vector<size_t> left;
    for (size_t i = 0; i < files.size(); ++i)
        if (!finished.count(files[i])) left.push_back(i);
    return left;
}

std::vector<size_t> shareOf(const std::vector<size_t>& unfinished, int rank, int size) {
    std::vector<size_t> mine;
    for (size_t j = size_t(rank); j < unfinished.size(); j += size_t(size))
        mine.push_back(unfinished[j]);
    return mine;
}

PartWriter::PartWriter(const std::string& out, int rank, int size)
    : path_(out + ".part-" + std::to_string(rank) + "-of-" + std::to_string(size)) {
    file_ = std::fopen(path_.c_str(), "a");
}

PartWriter::~PartWriter() {
    if (file_) std::fclose(file_);
}

Result<void> PartWriter::write(const std::string& line) {
    if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0)
        return fail("cannot write " + path_ + ": " + std::strerror(errno));
    return {};
}

Result<void> PartWriter::add(const nlohmann::ordered_json& record) {
    return write(dumpJson(record) + "\n");
}

Result<void> PartWriter::finishItem(const std::string& input) {
    ESPER_TRY(write(dumpJson(nlohmann::ordered_json{{"path", input}, {kDoneKey, true}}) + "\n"));
    // On disk before the item counts as done: a crash after this line must not lose it.
    if (::fsync(::fileno(file_)) != 0)
        return fail("cannot write " + path_ + ": " + std::strerror(errno));
    return {};
}

Result<size_t> mergeParts(const std::string& out, const std::vector<std::string>& files,
                          const std::vector<nlohmann::ordered_json>& leading) {
    auto finished = finishedRecords(out);
    std::string text;
    for (const auto& record : leading)
        text += dumpJson(record) + "\n";
    size_t items = 0;
    for (const auto& file : files) {
        const auto it = finished.find(file);
        if (it == finished.end())
            return fail("cannot merge " + out + ": no part has finished " + file);
        for (const auto& record : it->second)
            text += dumpJson(record) + "\n";
        ++items;
    }
    ESPER_TRY(writeFileAtomic(out, text));
    for (const auto& part : partsOf(out)) {
        std::error_code ec;
        fs::remove(part, ec);
    }
    return items;
}

} // namespace esper::cli
