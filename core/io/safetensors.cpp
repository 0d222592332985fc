#include "io/safetensors.h"

#include "util/file_util.h"
#include "util/json_text.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

namespace esper {
namespace {

struct DTypeEntry {
    DType type;
    const char* name;
    size_t size;
};

constexpr DTypeEntry kDTypes[] = {
    {DType::Bool, "BOOL", 1},      {DType::U8, "U8", 1},   {DType::I8, "I8", 1},
    {DType::I16, "I16", 2},        {DType::U16, "U16", 2}, {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2},      {DType::I32, "I32", 4}, {DType::U32, "U32", 4},
    {DType::F32, "F32", 4},        {DType::F64, "F64", 8}, {DType::I64, "I64", 8},
    {DType::U64, "U64", 8},        {DType::C64, "C64", 8}, {DType::F8E5M2, "F8_E5M2", 1},
    {DType::F8E4M3, "F8_E4M3", 1},
};

const DTypeEntry* lookupDType(const std::string& name) {
    for (const auto& e : kDTypes)
        if (name == e.name) return &e;
    return nullptr;
}

uint64_t readU64LE(const unsigned char* p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i)
        v = (v << 8) | p[i];
    return v;
}

bool isUnsignedInt(const nlohmann::json& j) {
    return j.is_number_unsigned();
}

} // namespace

const char* dtypeName(DType t) {
    for (const auto& e : kDTypes)
        if (e.type == t) return e.name;
    return "?";
}

size_t dtypeSize(DType t) {
    for (const auto& e : kDTypes)
        if (e.type == t) return e.size;
    return 0;
}

int64_t TensorInfo::numel() const {
    int64_t n = 1;
    for (auto d : shape)
        n *= d;
    return n;
}

Result<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
    auto mapped = MappedFile::open(path);
    ESPER_TRY(mapped);
    return parse(std::move(mapped.value()));
}

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : &tensors_[it->second];
}

Result<SafetensorsFile> SafetensorsFile::parse(std::shared_ptr<const MappedFile> file) {
    const std::string where = "safetensors file '" + file->path() + "'";
    const size_t fileSize = file->size();
    if (fileSize < 8)
        return fail(where + " is truncated: " + std::to_string(fileSize) +
                    " bytes, too short for the 8-byte header length");
    const uint64_t headerLen = readU64LE(file->data());
    // The length is the file's first 8 bytes: it is not quoted, since a file that is not
    // safetensors at all would have its first bytes echoed into the message.
    if (headerLen > kMaxHeaderBytes)
        return fail(where + " is not a safetensors file: its first 8 bytes are not a header "
                            "length (they declare more than the format's limit of 100,000,000 "
                            "bytes)");
    if (headerLen > fileSize - 8)
        return fail(where +
                    " is truncated or not a safetensors file: its header length is "
                    "more than the " +
                    std::to_string(fileSize - 8) + " bytes that follow it");
    const char* headerStart = reinterpret_cast<const char*>(file->data() + 8);
    if (headerLen == 0 || headerStart[0] != '{')
        return fail(where + " has a header that is not a JSON object");

    // nlohmann keeps the last of duplicate keys silently; the format forbids duplicates.
    std::set<std::string> seen;
    std::string duplicate;
    auto onEvent = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
        if (event == nlohmann::json::parse_event_t::key && depth == 1 &&
            !seen.insert(parsed.get<std::string>()).second && duplicate.empty())
            duplicate = parsed.get<std::string>();
        return true;
    };
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(headerStart, headerStart + headerLen, onEvent);
    } catch (const nlohmann::json::exception& e) {
        return fail(where + " has a malformed JSON header: " + e.what());
    }
    if (!header.is_object()) return fail(where + " has a header that is not a JSON object");
    if (!duplicate.empty()) return fail(where + " names tensor '" + duplicate + "' twice");

    SafetensorsFile out;
    const uint64_t dataSize = fileSize - 8 - headerLen;
    for (auto it = header.begin(); it != header.end(); ++it) {
        const std::string& name = it.key();
        const nlohmann::json& v = it.value();
        if (name == "__metadata__") {
            if (!v.is_object()) return fail(where + ": __metadata__ must be an object");
            for (auto m = v.begin(); m != v.end(); ++m) {
                if (!m.value().is_string())
                    return fail(where + ": __metadata__ value '" + m.key() + "' is not a string");
                out.metadata_[m.key()] = m.value().get<std::string>();
            }
            continue;
        }
        const std::string what = where + ", tensor '" + name + "'";
        if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") ||
            !v.contains("data_offsets"))
            return fail(what + ": entry must be an object with dtype, shape and data_offsets");
        if (!v["dtype"].is_string()) return fail(what + ": dtype is not a string");
        const auto* dt = lookupDType(v["dtype"].get<std::string>());
        if (!dt) return fail(what + ": unsupported dtype " + v["dtype"].get<std::string>());
        TensorInfo info;
        info.name = name;
        info.dtype = dt->type;
        if (!v["shape"].is_array()) return fail(what + ": shape is not an array");
        unsigned __int128 bytes = dt->size;
        for (const auto& d : v["shape"]) {
            if (!isUnsignedInt(d)) return fail(what + ": shape holds a non-integer or negative");
            const uint64_t dim = d.get<uint64_t>();
            if (dim > (uint64_t{1} << 62)) return fail(what + ": shape dimension too large");
            info.shape.push_back(static_cast<int64_t>(dim));
            bytes *= dim;
            if (bytes > fileSize) bytes = static_cast<unsigned __int128>(fileSize) + 1;
        }
        const auto& off = v["data_offsets"];
        if (!off.is_array() || off.size() != 2 || !isUnsignedInt(off[0]) || !isUnsignedInt(off[1]))
            return fail(what + ": data_offsets must be two non-negative integers");
        info.begin = off[0].get<uint64_t>();
        info.end = off[1].get<uint64_t>();
        if (info.end < info.begin) return fail(what + ": data_offsets end before they begin");
        if (info.end > dataSize)
            return fail(what + ": data_offsets [" + std::to_string(info.begin) + ", " +
                        std::to_string(info.end) + ") run past the end of the data (" +
                        std::to_string(dataSize) + " bytes); the file may be truncated");
        if (bytes != info.end - info.begin)
            return fail(what + ": " + dt->name + " shape needs " +
                        (bytes > fileSize
                             ? std::string("more bytes than the file has")
                             : std::to_string(static_cast<uint64_t>(bytes)) + " bytes") +
                        " but data_offsets give " + std::to_string(info.end - info.begin));
        out.tensors_.push_back(std::move(info));
    }

    // The data section must be covered exactly: no overlaps, no holes, nothing trailing.
    std::vector<const TensorInfo*> byOffset;
    for (const auto& t : out.tensors_)
        byOffset.push_back(&t);
    std::sort(byOffset.begin(), byOffset.end(), [](auto* a, auto* b) {
        return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
    });
    uint64_t cursor = 0;
    const TensorInfo* previous = nullptr;
    for (const auto* t : byOffset) {
        if (t->begin < cursor)
            return fail(where + ": tensors '" + previous->name + "' and '" + t->name + "' overlap");
        if (t->begin > cursor)
            return fail(where + ": " + std::to_string(t->begin - cursor) +
                        " unused bytes before tensor '" + t->name + "'");
        cursor = t->end;
        previous = t;
    }
    if (cursor != dataSize)
        return fail(where + ": " + std::to_string(dataSize - cursor) +
                    " bytes after the last tensor belong to none");

    out.file_ = std::move(file);
    out.dataStart_ = out.file_->data() ? out.file_->data() + 8 + headerLen : nullptr;
    for (size_t i = 0; i < out.tensors_.size(); ++i)
        out.index_[out.tensors_[i].name] = i;
    return out;
}

Result<void> writeSafetensors(const std::string& path, const std::vector<TensorBytes>& tensors,
                              const std::map<std::string, std::string>& metadata) {
    std::vector<const TensorBytes*> order;
    std::set<std::string> names;
    for (const auto& t : tensors) {
        if (!names.insert(t.name).second)
            return fail("cannot write '" + path + "': tensor '" + t.name + "' given twice");
        order.push_back(&t);
    }
    std::sort(order.begin(), order.end(), [](auto* a, auto* b) {
        const size_t sa = dtypeSize(a->dtype), sb = dtypeSize(b->dtype);
        return sa != sb ? sa > sb : a->name < b->name;
    });
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    uint64_t offset = 0;
    std::vector<uint64_t> sizes;
    for (const auto* t : order) {
        uint64_t n = dtypeSize(t->dtype);
        for (auto d : t->shape) {
            if (d < 0) return fail("cannot write '" + path + "': negative dimension in " + t->name);
            n *= static_cast<uint64_t>(d);
        }
        header[t->name] = {{"dtype", dtypeName(t->dtype)},
                           {"shape", t->shape},
                           {"data_offsets", {offset, offset + n}}};
        sizes.push_back(n);
        offset += n;
    }
    std::string json = dumpJson(header);
    json.append((8 - json.size() % 8) % 8, ' ');
    std::string length(8, '\0');
    for (int i = 0; i < 8; ++i)
        length[size_t(i)] = static_cast<char>((uint64_t(json.size()) >> (8 * i)) & 0xff);
    // Written piece by piece from where the tensors are: no copy of the whole file in memory.
    std::vector<std::string_view> pieces = {length, json};
    for (size_t i = 0; i < order.size(); ++i)
        if (sizes[i]) pieces.emplace_back(static_cast<const char*>(order[i]->data), sizes[i]);
    return writeFileAtomic(path, pieces);
}

} // namespace esper
