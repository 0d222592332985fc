#include "datasets/caption_dataset.h"

#include "util/file_util.h"
#include "util/json_text.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

namespace esper {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const std::set<std::string> kImageExtensions = {".jpg", ".jpeg", ".png", ".webp",
                                                ".bmp", ".tif",  ".tiff"};

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

// An id as text: COCO ids are numbers, other datasets use strings.
Result<std::string> idText(const json& v, const std::string& field) {
    if (v.is_number_integer()) return std::to_string(v.get<long long>());
    if (v.is_string()) return v.get<std::string>();
    return fail(field + " must be a number or a string");
}

Result<std::string> stringField(const json& obj, const char* key, const std::string& where,
                                bool required = true) {
    if (!obj.contains(key)) {
        if (!required) return std::string();
        return fail(where + "." + key + " is missing");
    }
    if (!obj[key].is_string()) return fail(where + "." + key + " must be a string");
    return obj[key].get<std::string>();
}

class Builder {
public:
    explicit Builder(CaptionDataset& d) : d_(d) {}
    CaptionRecord& record(const std::string& id, const std::string& path = {}) {
        auto it = d_.index.find(id);
        if (it != d_.index.end()) {
            auto& r = d_.records[it->second];
            if (r.imagePath.empty()) r.imagePath = path;
            return r;
        }
        d_.index.emplace(id, d_.records.size());
        d_.records.push_back({});
        d_.records.back().imageId = id;
        d_.records.back().imagePath = path;
        return d_.records.back();
    }
    bool has(const std::string& id) const { return d_.index.count(id) > 0; }

private:
    CaptionDataset& d_;
};

// COCO and ESP share the layout; ESP annotations carry caption_<style> fields.
Result<void> readCocoLike(const json& j, const std::string& where, bool esp, CaptionDataset& d) {
    if (!j.contains("images") || !j["images"].is_array())
        return fail(where + ": \"images\" must be a list");
    if (!j.contains("annotations") || !j["annotations"].is_array())
        return fail(where + ": \"annotations\" must be a list");
    Builder b(d);
    const auto& images = j["images"];
    for (size_t i = 0; i < images.size(); ++i) {
        const std::string field = where + ": images[" + std::to_string(i) + "]";
        if (!images[i].is_object()) return fail(field + " must be an object");
        if (!images[i].contains("id")) return fail(field + ".id is missing");
        auto id = idText(images[i]["id"], field + ".id");
        ESPER_TRY(id);
        auto file = stringField(images[i], "file_name", field, false);
        ESPER_TRY(file);
        b.record(id.value(), file.value());
    }
    const auto& anns = j["annotations"];
    for (size_t i = 0; i < anns.size(); ++i) {
        const std::string field = where + ": annotations[" + std::to_string(i) + "]";
        if (!anns[i].is_object()) return fail(field + " must be an object");
        if (!anns[i].contains("image_id")) return fail(field + ".image_id is missing");
        auto id = idText(anns[i]["image_id"], field + ".image_id");
        ESPER_TRY(id);
        if (!b.has(id.value()))
            return fail(field + ".image_id " + id.value() + " names no entry of \"images\"");
        auto& rec = b.record(id.value());
        if (!esp) {
            auto caption = stringField(anns[i], "caption", field);
            ESPER_TRY(caption);
            rec.references[""].push_back(caption.value());
            continue;
        }
        for (auto it = anns[i].begin(); it != anns[i].end(); ++it) {
            if (it.key().rfind("caption_", 0) != 0) continue;
            if (!it.value().is_string()) return fail(field + "." + it.key() + " must be a string");
            rec.references[it.key().substr(8)].push_back(it.value().get<std::string>());
        }
    }
    return {};
}

Result<void> readKarpathy(const json& j, const std::string& where, CaptionDataset& d) {
    if (!j.contains("images") || !j["images"].is_array())
        return fail(where + ": \"images\" must be a list");
    Builder b(d);
    const auto& images = j["images"];
    for (size_t i = 0; i < images.size(); ++i) {
        const std::string field = where + ": images[" + std::to_string(i) + "]";
        const auto& im = images[i];
        if (!im.is_object()) return fail(field + " must be an object");
        auto file = stringField(im, "filename", field);
        ESPER_TRY(file);
        auto dir = stringField(im, "filepath", field, false);
        ESPER_TRY(dir);
        std::string id = file.value();
        for (const char* key : {"cocoid", "imgid"}) {
            if (!im.contains(key)) continue;
            auto v = idText(im[key], field + "." + key);
            ESPER_TRY(v);
            id = v.value();
            break;
        }
        auto& rec = b.record(id, dir->empty() ? file.value() : dir.value() + "/" + file.value());
        auto split = stringField(im, "split", field, false);
        ESPER_TRY(split);
        rec.split = split.value();
        if (!im.contains("sentences") || !im["sentences"].is_array())
            return fail(field + ".sentences must be a list");
        const auto& sents = im["sentences"];
        for (size_t k = 0; k < sents.size(); ++k) {
            const std::string sf = field + ".sentences[" + std::to_string(k) + "]";
            if (!sents[k].is_object()) return fail(sf + " must be an object");
            auto raw = stringField(sents[k], "raw", sf);
            ESPER_TRY(raw);
            rec.references[""].push_back(raw.value());
        }
    }
    return {};
}

Result<void> readEvalSet(const json& j, const std::string& where, CaptionDataset& d) {
    if (!j["refs"].is_object()) return fail(where + ": \"refs\" must be an object");
    Builder b(d);
    for (auto it = j["refs"].begin(); it != j["refs"].end(); ++it) {
        const std::string field = where + ": refs[\"" + it.key() + "\"]";
        if (!it.value().is_array()) return fail(field + " must be a list of captions");
        auto& rec = b.record(it.key());
        for (const auto& r : it.value()) {
            if (!r.is_string()) return fail(field + " holds a value that is not a string");
            rec.references[""].push_back(r.get<std::string>());
        }
    }
    if (j.contains("cands")) {
        if (!j["cands"].is_object()) return fail(where + ": \"cands\" must be an object");
        for (auto it = j["cands"].begin(); it != j["cands"].end(); ++it) {
            if (!it.value().is_string())
                return fail(where + ": cands[\"" + it.key() + "\"] must be one caption");
            b.record(it.key()).candidates[""] = it.value().get<std::string>();
        }
    }
    return {};
}

Result<void> readCocoResults(const json& j, const std::string& where, CaptionDataset& d) {
    Builder b(d);
    for (size_t i = 0; i < j.size(); ++i) {
        const std::string field = where + ": [" + std::to_string(i) + "]";
        if (!j[i].is_object() || !j[i].contains("image_id"))
            return fail(field + " must be an object with image_id and caption");
        auto id = idText(j[i]["image_id"], field + ".image_id");
        ESPER_TRY(id);
        auto caption = stringField(j[i], "caption", field);
        ESPER_TRY(caption);
        auto style = stringField(j[i], "style", field, false);
        ESPER_TRY(style);
        b.record(id.value()).candidates[style.value()] = caption.value();
    }
    return {};
}

// One JSONL record into the dataset (see readDataset's comment for the fields).
Result<void> readJsonlRecord(const json& r, const std::string& where, Builder& b) {
    if (!r.is_object()) return fail(where + ": a record must be a JSON object");
    std::string path;
    for (const char* key : {"image", "path", "file_name"}) {
        if (!r.contains(key)) continue;
        if (!r[key].is_string()) return fail(where + ": \"" + key + "\" must be a string");
        path = r[key].get<std::string>();
        break;
    }
    std::string id = path;
    if (r.contains("image_id")) {
        auto v = idText(r["image_id"], where + ": \"image_id\"");
        ESPER_TRY(v);
        id = v.value();
    }
    if (id.empty()) return fail(where + ": the record names no image (image, path or image_id)");
    auto& rec = b.record(id, path);
    auto readList = [&](const json& v, const std::string& style, const std::string& key) {
        if (v.is_string()) {
            rec.references[style].push_back(v.get<std::string>());
            return Result<void>();
        }
        if (!v.is_array()) return Result<void>(fail(where + ": \"" + key + "\" must be a list"));
        for (const auto& s : v) {
            if (!s.is_string())
                return Result<void>(fail(where + ": \"" + key + "\" holds a non-string"));
            rec.references[style].push_back(s.get<std::string>());
        }
        return Result<void>();
    };
    for (const char* key : {"references", "refs"}) {
        if (!r.contains(key)) continue;
        const auto& v = r[key];
        if (v.is_object()) {
            for (auto it = v.begin(); it != v.end(); ++it)
                if (auto ok = readList(it.value(), it.key(), std::string(key) + "." + it.key());
                    !ok)
                    return ok;
        } else if (auto ok = readList(v, "", key); !ok) {
            return ok;
        }
    }
    auto split = stringField(r, "split", where, false);
    ESPER_TRY(split);
    if (!split->empty()) rec.split = split.value();
    auto style = stringField(r, "style", where, false);
    ESPER_TRY(style);
    for (const char* key : {"candidate", "caption"}) {
        if (!r.contains(key)) continue;
        if (!r[key].is_string()) return fail(where + ": \"" + key + "\" must be a string");
        rec.candidates[style.value()] = r[key].get<std::string>();
        // esper caption's records carry the caption's CLIP-S.
        if (r.contains("clip_s") && r["clip_s"].is_number())
            rec.candidateClipS[style.value()] = r["clip_s"].get<double>();
    }
    if (r.contains("candidates")) {
        if (!r["candidates"].is_object())
            return fail(where + ": \"candidates\" must be an object {style: caption}");
        for (auto it = r["candidates"].begin(); it != r["candidates"].end(); ++it) {
            if (!it.value().is_string())
                return fail(where + ": candidates." + it.key() + " must be a string");
            rec.candidates[it.key()] = it.value().get<std::string>();
        }
    }
    return {};
}

Result<void> readJsonl(const std::string& text, const std::string& path, CaptionDataset& d) {
    Builder b(d);
    size_t line = 0, pos = 0;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) nl = text.size();
        const std::string content = text.substr(pos, nl - pos);
        pos = nl + 1;
        ++line;
        if (content.find_first_not_of(" \t\r") == std::string::npos) continue;
        const std::string where = path + ":" + std::to_string(line);
        json r;
        try {
            r = json::parse(content);
        } catch (const json::parse_error& e) {
            return fail(where + ": invalid JSON at column " + std::to_string(e.byte));
        } catch (const json::exception&) {
            // A number too large for any type (out_of_range) is a parse failure too; it once
            // escaped here and ended the process (found by fuzzing).
            return fail(where + ": invalid JSON (a number out of range)");
        }
        if (auto ok = readJsonlRecord(r, where, b); !ok) return ok;
    }
    return {};
}

Result<void> readFolder(const std::string& dir, CaptionDataset& d) {
    std::vector<fs::path> images;
    std::error_code ec;
    for (fs::recursive_directory_iterator
             it(dir, fs::directory_options::skip_permission_denied, ec),
         end;
         it != end; it.increment(ec)) {
        if (ec) return fail("cannot list '" + dir + "': " + ec.message());
        if (it->is_regular_file() && kImageExtensions.count(lower(it->path().extension())))
            images.push_back(it->path());
    }
    if (ec) return fail("cannot list '" + dir + "': " + ec.message());
    std::sort(images.begin(), images.end());
    Builder b(d);
    for (const auto& image : images) {
        const std::string rel = fs::relative(image, dir).string();
        auto& rec = b.record(rel, rel);
        for (const char* ext : {".txt", ".caption"}) {
            fs::path sidecar = image;
            sidecar.replace_extension(ext);
            if (!fs::exists(sidecar)) continue;
            auto text = readTextFile(sidecar.string());
            ESPER_TRY(text);
            size_t pos = 0;
            const std::string& t = text.value();
            while (pos <= t.size()) {
                size_t nl = t.find('\n', pos);
                if (nl == std::string::npos) nl = t.size();
                std::string caption = t.substr(pos, nl - pos);
                pos = nl + 1;
                const size_t a = caption.find_first_not_of(" \t\r");
                if (a == std::string::npos) continue;
                caption = caption.substr(a, caption.find_last_not_of(" \t\r") - a + 1);
                rec.references[""].push_back(caption);
            }
        }
    }
    return {};
}

} // namespace

const char* formatName(DatasetFormat f) {
    switch (f) {
    case DatasetFormat::Auto:
        return "auto";
    case DatasetFormat::Coco:
        return "coco";
    case DatasetFormat::CocoResults:
        return "coco-results";
    case DatasetFormat::Karpathy:
        return "karpathy";
    case DatasetFormat::Esp:
        return "esp";
    case DatasetFormat::EvalSet:
        return "evalset";
    case DatasetFormat::Jsonl:
        return "jsonl";
    case DatasetFormat::Folder:
        return "folder";
    }
    return "?";
}

Result<DatasetFormat> parseFormatName(const std::string& name) {
    for (auto f : {DatasetFormat::Auto, DatasetFormat::Coco, DatasetFormat::CocoResults,
                   DatasetFormat::Karpathy, DatasetFormat::Esp, DatasetFormat::EvalSet,
                   DatasetFormat::Jsonl, DatasetFormat::Folder})
        if (name == formatName(f)) return f;
    return fail("unknown format '" + name +
                "' (auto, coco, coco-results, karpathy, esp, evalset, jsonl, folder)");
}

const CaptionRecord* CaptionDataset::find(const std::string& imageId) const {
    auto it = index.find(imageId);
    return it == index.end() ? nullptr : &records[it->second];
}

size_t CaptionDataset::matchImage(const CaptionRecord& other) const {
    auto it = index.find(other.imageId);
    if (it != index.end()) return it->second;
    if (byFileName_.empty())
        for (size_t i = 0; i < records.size(); ++i)
            if (!records[i].imagePath.empty())
                byFileName_.emplace(fs::path(records[i].imagePath).filename().string(), i);
    const std::string name =
        fs::path(other.imagePath.empty() ? other.imageId : other.imagePath).filename().string();
    auto b = byFileName_.find(name);
    return b == byFileName_.end() ? SIZE_MAX : b->second;
}

Result<CaptionDataset> readDataset(const std::string& path, DatasetFormat format) {
    CaptionDataset d;
    d.source = path;
    std::error_code ec;
    const bool isDir = fs::is_directory(path, ec);
    if (!isDir && !fs::exists(path, ec)) return fail("'" + path + "' does not exist");
    d.baseDir = isDir ? path : fs::path(path).parent_path().string();
    if (format == DatasetFormat::Auto && isDir) format = DatasetFormat::Folder;
    if (format == DatasetFormat::Folder) {
        if (!isDir) return fail("'" + path + "' is not a folder");
        d.format = format;
        ESPER_TRY(readFolder(path, d));
        return d;
    }
    auto text = readTextFile(path);
    ESPER_TRY(text);
    if (format == DatasetFormat::Auto && lower(fs::path(path).extension()) == ".jsonl")
        format = DatasetFormat::Jsonl;
    if (format == DatasetFormat::Jsonl) {
        d.format = format;
        ESPER_TRY(readJsonl(text.value(), path, d));
        return d;
    }
    auto j = parseJsonText(text.value(), path);
    ESPER_TRY(j);
    if (format == DatasetFormat::Auto) {
        if (j->is_array())
            format = DatasetFormat::CocoResults;
        else if (!j->is_object())
            return fail(path + ": expected a JSON object or list of caption records");
        else if (j->contains("refs"))
            format = DatasetFormat::EvalSet;
        else if (j->contains("annotations")) {
            format = DatasetFormat::Coco;
            const auto& anns = (*j)["annotations"];
            if (anns.is_array())
                for (const auto& a : anns)
                    if (a.is_object())
                        for (auto it = a.begin(); it != a.end(); ++it)
                            if (it.key().rfind("caption_", 0) == 0) format = DatasetFormat::Esp;
        } else if (j->contains("images")) {
            format = DatasetFormat::Karpathy;
        } else {
            return fail(path + ": not a caption dataset this program knows (COCO, Karpathy, "
                               "ESP, evaluation set, COCO results); name one with --format");
        }
    }
    d.format = format;
    Result<void> ok;
    switch (format) {
    case DatasetFormat::Coco:
        ok = readCocoLike(j.value(), path, false, d);
        break;
    case DatasetFormat::Esp:
        ok = readCocoLike(j.value(), path, true, d);
        break;
    case DatasetFormat::Karpathy:
        ok = readKarpathy(j.value(), path, d);
        break;
    case DatasetFormat::EvalSet:
        if (!j->is_object() || !j->contains("refs"))
            return fail(path + ": an evaluation set needs \"refs\"");
        ok = readEvalSet(j.value(), path, d);
        break;
    case DatasetFormat::CocoResults:
        if (!j->is_array()) return fail(path + ": COCO results must be a JSON list");
        ok = readCocoResults(j.value(), path, d);
        break;
    default:
        return fail("unsupported format");
    }
    ESPER_TRY(ok);
    return d;
}

} // namespace esper
