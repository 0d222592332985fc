#include "io/torch_checkpoint.h"

#include "io/mapped_file.h"
#include "io/pickle_machine.h"
#include "io/zip_archive.h"

#include <cstring>
#include <map>
#include <set>
#include <unordered_set>

namespace esper {

namespace {

using Kind = PickleValue::Kind;

// torch.save's legacy format starts with this number, pickled: PROTO 2, LONG1 of 10 bytes.
constexpr std::string_view kLegacyMagic =
    "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.";

struct StorageRecord {
    std::string key;
    DType dtype = DType::F32;
    uint64_t numel = 0;      // elements
    uint64_t viewOffset = 0; // elements into its root storage (legacy storage views)
};

struct TensorRecord {
    size_t storage = 0;
    uint64_t offset = 0;
    std::vector<int64_t> sizes, strides;
};

bool dtypeOfStorage(const std::string& global, DType& out) {
    static const std::map<std::string, DType> types = {
        {"torch.FloatStorage", DType::F32}, {"torch.DoubleStorage", DType::F64},
        {"torch.HalfStorage", DType::F16},  {"torch.BFloat16Storage", DType::BF16},
        {"torch.LongStorage", DType::I64},  {"torch.IntStorage", DType::I32},
        {"torch.ShortStorage", DType::I16}, {"torch.CharStorage", DType::I8},
        {"torch.ByteStorage", DType::U8},   {"torch.BoolStorage", DType::Bool}};
    const auto it = types.find(global);
    if (it == types.end()) return false;
    out = it->second;
    return true;
}

bool asInt(const PickleValue* v, int64_t& out) {
    if (!v || v->kind != Kind::Int || v->hugeInteger) return false;
    out = v->integer;
    return true;
}

bool asInts(const PickleValue* v, std::vector<int64_t>& out) {
    if (!v || v->kind != Kind::Tuple) return false;
    out.clear();
    for (const auto* item : v->items) {
        int64_t i;
        if (!asInt(item, i)) return false;
        out.push_back(i);
    }
    return true;
}

// The reader of one checkpoint: the machine's hooks, the storages and tensors they record, and
// the storages' bytes once the format has located them.
class Reader {
public:
    Reader(std::string_view file, std::string origin)
        : file_(file), origin_(std::move(origin)),
          machine_([this](const std::string& g, PickleValue* a) { return call(g, a); },
                   [this](PickleValue* pid) { return persistent(pid); }) {}

    Result<TorchCheckpoint> read() {
        TorchCheckpoint out;
        PickleValue* root = nullptr;
        if (ZipArchive::looksLikeZip(file_)) {
            out.format = "zip";
            auto zip = ZipArchive::open(file_, origin_);
            ESPER_TRY(zip);
            zip_ = std::move(zip.value());
            const ZipEntry* pickle = nullptr;
            for (const auto& e : zip_.entries())
                if (e.name == "data.pkl" || e.name.ends_with("/data.pkl")) {
                    pickle = &e;
                    break;
                }
            if (!pickle)
                return bad("it is a ZIP archive without data.pkl (not written by torch.save)");
            prefix_ = pickle->name.substr(0, pickle->name.size() - std::string("data.pkl").size());
            if (const ZipEntry* order = zip_.find(prefix_ + "byteorder")) {
                auto text = zip_.read(*order);
                ESPER_TRY(text);
                if (text.value() != "little") return bad("it was saved on a big-endian machine");
            }
            auto bytes = zip_.read(*pickle);
            ESPER_TRY(bytes);
            auto value = machine_.run(bytes.value(), origin_, nullptr);
            ESPER_TRY(value);
            root = value.value();
        } else if (file_.starts_with(kLegacyMagic)) {
            out.format = "legacy";
            auto value = readLegacy();
            ESPER_TRY(value);
            root = value.value();
        } else if (!file_.empty() && uint8_t(file_[0]) == 0x80) {
            out.format = "pickle"; // a bare pickle: no storages, so no tensors
            auto value = machine_.run(file_, origin_, nullptr);
            ESPER_TRY(value);
            root = value.value();
        } else {
            return bad("it is neither a ZIP archive nor a pickle");
        }
        std::unordered_set<const PickleValue*> seen;
        ESPER_TRY(walk(root, "", 0, seen, out));
        return out;
    }

private:
    Error bad(const std::string& why) const {
        return fail(ErrorCode::InvalidInput,
                    "'" + origin_ + "' is not a readable PyTorch checkpoint: " + why);
    }

    // ('storage', torch.FloatStorage, key, location, numel[, view_metadata])
    Result<PickleValue*> persistent(PickleValue* pid) {
        if (pid->kind != Kind::Tuple || pid->items.size() < 5 || pid->items[0]->kind != Kind::Str ||
            pid->items[0]->text != "storage" || pid->items[1]->kind != Kind::Global ||
            pid->items[2]->kind != Kind::Str)
            return bad("a persistent id that is not a storage");
        StorageRecord s;
        s.key = pid->items[2]->text;
        if (!dtypeOfStorage(pid->items[1]->text, s.dtype))
            return bad("storage of type " + pid->items[1]->text + " is not supported");
        int64_t numel;
        if (!asInt(pid->items[4], numel) || numel < 0) return bad("a storage without a size");
        s.numel = uint64_t(numel);
        // Legacy storage views: (view key, offset, size) into the root storage.
        if (pid->items.size() > 5 && pid->items[5]->kind == Kind::Tuple) {
            const auto& v = pid->items[5]->items;
            int64_t offset, size;
            if (v.size() != 3 || !asInt(v[1], offset) || !asInt(v[2], size) || offset < 0 ||
                size < 0)
                return bad("a storage view that cannot be read");
            s.viewOffset = uint64_t(offset);
            s.numel = uint64_t(size);
        }
        PickleValue* v = machine_.make(Kind::Persistent);
        v->handle = storages_.size();
        storages_.push_back(std::move(s));
        return v;
    }

    Result<PickleValue*> call(const std::string& global, PickleValue* args) {
        const auto& a = args->items;
        if (global == "collections.OrderedDict") return machine_.make(Kind::Dict);
        if (global == "torch._utils._rebuild_parameter" ||
            global == "torch._utils._rebuild_parameter_with_state") {
            if (a.empty()) return bad("a parameter without its tensor");
            return a[0];
        }
        if (global == "torch._utils._rebuild_tensor_v2" ||
            global == "torch._utils._rebuild_tensor") {
            TensorRecord t;
            int64_t offset;
            if (a.size() < 4 || a[0]->kind != Kind::Persistent || !asInt(a[1], offset) ||
                offset < 0 || !asInts(a[2], t.sizes) || !asInts(a[3], t.strides) ||
                t.sizes.size() != t.strides.size() || t.sizes.size() > 64)
                return bad("a tensor whose storage, offset, size or stride is malformed");
            t.storage = a[0]->handle;
            t.offset = uint64_t(offset);
            ESPER_TRY(checkView(t));
            PickleValue* v = machine_.make(Kind::Opaque);
            v->handle = tensors_.size();
            tensors_.push_back(std::move(t));
            return v;
        }
        if (global == "_codecs.encode" && !a.empty() && a[0]->kind == Kind::Str) {
            PickleValue* v = machine_.make(Kind::Bytes); // bytes pickled by protocol 2
            v->text = a[0]->text;
            return v;
        }
        return nullptr; // anything else stays an inert placeholder
    }

    // The view must lie inside its storage, and what it makes must not be far beyond what the
    // file holds (a stride-0 view could otherwise ask for terabytes).
    Result<void> checkView(const TensorRecord& t) const {
        const StorageRecord& s = storages_[t.storage];
        unsigned __int128 numel = 1, last = t.offset;
        for (size_t d = 0; d < t.sizes.size(); ++d) {
            if (t.sizes[d] < 0 || t.strides[d] < 0)
                return bad("a tensor with a negative size or stride");
            numel *= uint64_t(t.sizes[d]);
            if (t.sizes[d] > 0)
                last += (unsigned __int128)(t.sizes[d] - 1) * uint64_t(t.strides[d]);
            if (numel > (unsigned __int128)1 << 62) return bad("a tensor too large to exist");
        }
        if (numel > 0 && last >= s.numel)
            return bad("a tensor reaches past the end of its storage '" + s.key + "'");
        const unsigned __int128 bytes = numel * dtypeSize(s.dtype);
        if (bytes > 2 * (unsigned __int128)file_.size() + (64u << 20))
            return bad("a tensor would take more memory than the file could describe");
        return {};
    }

    // The legacy stream: magic, protocol, system info, the object, the storage keys, then each
    // storage as an 8-byte element count and its bytes.
    Result<PickleValue*> readLegacy() {
        size_t at = 0;
        auto next = [&]() -> Result<PickleValue*> {
            size_t used = 0;
            auto v = machine_.run(file_.substr(at), origin_, &used);
            ESPER_TRY(v);
            at += used;
            return v;
        };
        for (int i = 0; i < 3; ++i) { // magic, protocol version, system info
            auto v = next();
            ESPER_TRY(v);
            if (i == 2 && v.value()->kind == Kind::Dict)
                for (const auto& [k, value] : v.value()->entries)
                    if (k->kind == Kind::Str && k->text == "little_endian" &&
                        value->kind == Kind::Bool && !value->integer)
                        return bad("it was saved on a big-endian machine");
        }
        auto root = next();
        ESPER_TRY(root);
        auto keys = next();
        ESPER_TRY(keys);
        if (keys.value()->kind != Kind::List) return bad("its storage list is missing");
        for (const auto* key : keys.value()->items) {
            if (key->kind != Kind::Str) return bad("a storage key is not a string");
            const StorageRecord* s = nullptr;
            for (const auto& record : storages_)
                if (record.key == key->text && record.viewOffset == 0) s = &record;
            if (file_.size() - at < 8) return bad("it is cut short in its storages");
            uint64_t count = 0;
            for (int i = 7; i >= 0; --i)
                count = count << 8 | uint8_t(file_[at + size_t(i)]);
            at += 8;
            const DType dtype = s ? s->dtype : DType::U8;
            if (count > (file_.size() - at) / dtypeSize(dtype))
                return bad("storage '" + key->text + "' runs past the end of the file");
            legacyData_[key->text] = file_.substr(at, count * dtypeSize(dtype));
            at += count * dtypeSize(dtype);
        }
        return root;
    }

    Result<std::string_view> storageBytes(const StorageRecord& s) const {
        std::string_view data;
        if (!legacyData_.empty() || zip_.entries().empty()) {
            const auto it = legacyData_.find(s.key);
            if (it == legacyData_.end()) return bad("storage '" + s.key + "' is missing");
            data = it->second;
        } else {
            const ZipEntry* e = zip_.find(prefix_ + "data/" + s.key);
            if (!e) return bad("storage '" + s.key + "' is missing");
            auto bytes = zip_.read(*e);
            ESPER_TRY(bytes);
            data = bytes.value();
        }
        const size_t elem = dtypeSize(s.dtype);
        if (s.viewOffset > data.size() / elem || s.numel > data.size() / elem - s.viewOffset)
            return bad("storage '" + s.key + "' is smaller than its tensors say");
        return data.substr(s.viewOffset * elem, s.numel * elem);
    }

    Result<CheckpointTensor> materialize(const TensorRecord& t, const std::string& name,
                                         TorchCheckpoint& out) const {
        const StorageRecord& s = storages_[t.storage];
        auto data = storageBytes(s);
        ESPER_TRY(data);
        CheckpointTensor result;
        result.name = name;
        result.dtype = s.dtype;
        result.shape = t.sizes;
        const size_t elem = dtypeSize(s.dtype);
        uint64_t numel = 1;
        for (auto d : t.sizes)
            numel *= uint64_t(d);
        if (numel == 0) return result;
        // Contiguous (the usual case): one copy. Otherwise element by element, odometer order.
        bool contiguous = true;
        int64_t expected = 1;
        for (size_t d = t.sizes.size(); d-- > 0;) {
            if (t.sizes[d] != 1 && t.strides[d] != expected) contiguous = false;
            expected *= t.sizes[d];
        }
        const char* base = data.value().data() + t.offset * elem;
        if (contiguous) { // in place: no copy
            result.bytes = std::string_view(base, numel * elem);
            return result;
        }
        std::string& copy = out.owned.emplace_back(numel * elem, '\0');
        std::vector<int64_t> index(t.sizes.size(), 0);
        for (uint64_t i = 0; i < numel; ++i) {
            uint64_t source = 0;
            for (size_t d = 0; d < index.size(); ++d)
                source += uint64_t(index[d]) * uint64_t(t.strides[d]);
            std::memcpy(copy.data() + i * elem, base + source * elem, elem);
            for (size_t d = index.size(); d-- > 0;) {
                if (++index[d] < t.sizes[d]) break;
                index[d] = 0;
            }
        }
        result.bytes = copy;
        return result;
    }

    Result<void> walk(const PickleValue* v, const std::string& path, int depth,
                      std::unordered_set<const PickleValue*>& seen, TorchCheckpoint& out) const {
        if (depth > 64) return bad("it nests deeper than any checkpoint");
        const auto child = [&](const std::string& key) {
            return path.empty() ? key : path + "." + key;
        };
        switch (v->kind) {
        case Kind::Opaque: {
            auto t = materialize(tensors_[v->handle], path, out);
            ESPER_TRY(t);
            out.tensors.push_back(std::move(t.value()));
            return {};
        }
        case Kind::Dict:
            if (!seen.insert(v).second) return {};
            for (const auto& [k, value] : v->entries) {
                const std::string key = k->kind == Kind::Str   ? k->text
                                        : k->kind == Kind::Int ? std::to_string(k->integer)
                                                               : std::string("?");
                ESPER_TRY(walk(value, child(key), depth + 1, seen, out));
            }
            return {};
        case Kind::List:
        case Kind::Tuple:
            if (!seen.insert(v).second) return {};
            for (size_t i = 0; i < v->items.size(); ++i)
                ESPER_TRY(walk(v->items[i], child(std::to_string(i)), depth + 1, seen, out));
            return {};
        case Kind::Call:
            out.skipped.push_back(
                (v->callee->kind == Kind::Global ? v->callee->text : std::string("an object")) +
                " at " + (path.empty() ? std::string("the top") : path));
            return {};
        default:
            return {};
        }
    }

    std::string_view file_;
    std::string origin_;
    PickleMachine machine_;
    ZipArchive zip_;
    std::string prefix_;
    std::vector<StorageRecord> storages_;
    std::vector<TensorRecord> tensors_;
    std::map<std::string, std::string_view> legacyData_;
};

} // namespace

bool looksLikeTorchCheckpoint(std::string_view head) {
    return ZipArchive::looksLikeZip(head) || head.starts_with(kLegacyMagic.substr(0, 4));
}

Result<TorchCheckpoint> parseTorchCheckpoint(std::string_view bytes, const std::string& origin) {
    return Reader(bytes, origin).read();
}

Result<TorchCheckpoint> readTorchCheckpoint(const std::string& path) {
    auto file = MappedFile::open(path);
    ESPER_TRY(file);
    const auto& mapped = *file.value();
    auto checkpoint = parseTorchCheckpoint(
        std::string_view(reinterpret_cast<const char*>(mapped.data()), mapped.size()), path);
    ESPER_TRY(checkpoint);
    checkpoint->file = file.value(); // the tensors' bytes point into it
    return checkpoint;
}

std::vector<NamedTensor> stateDictOf(const TorchCheckpoint& c) {
    static const std::string prefix = "state_dict.";
    std::vector<NamedTensor> under, all;
    for (auto& t : c.tensors) {
        all.push_back({t.name, &t});
        if (t.name.starts_with(prefix)) under.push_back({t.name.substr(prefix.size()), &t});
    }
    return under.empty() ? all : under;
}

} // namespace esper
