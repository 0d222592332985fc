#include "datasets/caption_dataset.h"

#include "util/file_util.h"
#include "util/json_text.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace esper {
namespace {

using ojson = nlohmann::ordered_json;

// COCO ids are numbers; keep them numbers when they were.
ojson idValue(const std::string& id) {
    if (!id.empty() && id.size() < 18 &&
        std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isdigit(c); }))
        return std::stoll(id);
    return id;
}

} // namespace

Result<void> writeCocoCaptions(const CaptionDataset& data, const std::string& path,
                               const std::string& style) {
    ojson j;
    j["images"] = ojson::array();
    j["annotations"] = ojson::array();
    long long annId = 1;
    for (const auto& r : data.records) {
        j["images"].push_back({{"id", idValue(r.imageId)}, {"file_name", r.imagePath}});
        auto it = r.references.find(style);
        if (it == r.references.end()) continue;
        for (const auto& caption : it->second)
            j["annotations"].push_back(
                {{"id", annId++}, {"image_id", idValue(r.imageId)}, {"caption", caption}});
    }
    return writeFileAtomic(path, dumpJson(j, 1) + "\n");
}

Result<void> writeJsonl(const CaptionDataset& data, const std::string& path) {
    std::string out;
    for (const auto& r : data.records) {
        ojson rec;
        rec["image"] = r.imagePath;
        rec["image_id"] = r.imageId;
        if (!r.split.empty()) rec["split"] = r.split;
        if (r.references.size() == 1 && r.references.count("")) {
            rec["references"] = r.references.at("");
        } else if (!r.references.empty()) {
            rec["references"] = ojson::object();
            for (const auto& [style, refs] : r.references)
                rec["references"][style] = refs;
        }
        if (!r.candidates.empty()) {
            rec["candidates"] = ojson::object();
            for (const auto& [style, c] : r.candidates)
                rec["candidates"][style] = c;
        }
        out += dumpJson(rec) + "\n";
    }
    return writeFileAtomic(path, out);
}

} // namespace esper
