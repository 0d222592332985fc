// Caption datasets in the formats people use (COCO captions, Karpathy splits, ESPER's ESP,
// JSONL, image folders with sidecar files), read into one shape.
#pragma once

#include "util/result.h"

#include <map>
#include <string>
#include <vector>

namespace esper {

enum class DatasetFormat {
    Auto,
    Coco,        // {"images": [...], "annotations": [{image_id, caption}]}
    CocoResults, // [{"image_id": ..., "caption": ...}]: candidates as COCO evaluation takes them
    Karpathy,    // dataset_coco.json: {"images": [{filename, split, sentences: [{raw}]}]}
    Esp,         // ESP: COCO layout, annotations with caption_sns/blog/news/story/instruction
    EvalSet,     // {"refs": {image: [...]}, "cands": {image: caption}}
    Jsonl,       // one record per line (see readDataset)
    Folder       // images with IMAGE.txt / IMAGE.caption sidecars
};

const char* formatName(DatasetFormat f);
Result<DatasetFormat> parseFormatName(const std::string& name);

struct CaptionRecord {
    std::string imageId;   // COCO id, Karpathy cocoid/imgid, or the file name
    std::string imagePath; // as the dataset gives it; may be relative to the dataset's folder
    std::string split;     // Karpathy: train / restval / val / test
    // References by style: "" for plain captions, "sns", "news", ... for ESP.
    std::map<std::string, std::vector<std::string>> references;
    // Candidates by style ("" when the file names none), and their CLIP-S where the file has it.
    std::map<std::string, std::string> candidates;
    std::map<std::string, double> candidateClipS{};
};

struct CaptionDataset {
    DatasetFormat format = DatasetFormat::Auto;
    std::string source;  // the file or folder read
    std::string baseDir; // where relative image paths start
    std::vector<CaptionRecord> records;
    // Index of imageId -> record position.
    const CaptionRecord* find(const std::string& imageId) const;
    std::map<std::string, size_t> index;
    // The position of the record that describes the same image as `other` (from another
    // dataset): the same image id, else the same file name. SIZE_MAX when none.
    size_t matchImage(const CaptionRecord& other) const;

private:
    mutable std::map<std::string, size_t> byFileName_; // built on first use
};

// Reads FILE or FOLDER; Auto guesses the format from the extension and the JSON's keys.
// JSONL records: {"image"|"path"|"file_name": ..., "image_id"?: ...,
//   "references"|"refs"?: [..] or {style: [..]}, "candidate"?: "..", "candidates"?: {style: ..},
//   "caption"? with "style"? (esper caption's output: one record per image x style)}.
// Errors name the file and the line, or the JSON field, that is wrong.
Result<CaptionDataset> readDataset(const std::string& path,
                                   DatasetFormat format = DatasetFormat::Auto);

// Writers for the formats that are worth writing.
Result<void> writeCocoCaptions(const CaptionDataset& data, const std::string& path,
                               const std::string& style = "");
Result<void> writeJsonl(const CaptionDataset& data, const std::string& path);

} // namespace esper
