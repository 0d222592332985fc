#include "io/zip_archive.h"

#include <cstring>

namespace esper {

namespace {

uint64_t le(std::string_view b, size_t at, int bytes) {
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i)
        v = v << 8 | uint8_t(b[at + size_t(i)]);
    return v;
}

constexpr uint32_t kLocalHeader = 0x04034b50, kCentralHeader = 0x02014b50,
                   kEndOfCentral = 0x06054b50, kZip64EndOfCentral = 0x06064b50,
                   kZip64Locator = 0x07064b50;

} // namespace

bool ZipArchive::looksLikeZip(std::string_view bytes) {
    return bytes.size() >= 4 && le(bytes, 0, 4) == kLocalHeader;
}

Result<ZipArchive> ZipArchive::open(std::string_view b, const std::string& origin) {
    auto bad = [&](const std::string& why) {
        return fail(ErrorCode::InvalidInput,
                    "'" + origin + "' is not a readable ZIP archive: " + why);
    };
    // The end-of-central-directory record: in the last 64 KiB + 22 bytes (its comment).
    if (b.size() < 22) return bad("too short");
    size_t end = std::string_view::npos;
    const size_t lowest = b.size() > 65557 ? b.size() - 65557 : 0;
    for (size_t at = b.size() - 22 + 1; at-- > lowest;)
        if (le(b, at, 4) == kEndOfCentral) {
            end = at;
            break;
        }
    if (end == std::string_view::npos) return bad("no end-of-directory record");
    uint64_t count = le(b, end + 10, 2), dirSize = le(b, end + 12, 4),
             dirOffset = le(b, end + 16, 4);
    // ZIP64: the real values are in the ZIP64 record that the locator before this points at.
    if ((count == 0xFFFF || dirOffset == 0xFFFFFFFF) && end >= 20 &&
        le(b, end - 20, 4) == kZip64Locator) {
        const uint64_t at = le(b, end - 20 + 8, 8);
        if (at > b.size() - 56 || le(b, at, 4) != kZip64EndOfCentral)
            return bad("a broken ZIP64 directory record");
        count = le(b, at + 32, 8);
        dirSize = le(b, at + 40, 8);
        dirOffset = le(b, at + 48, 8);
    }
    if (dirOffset > b.size() || dirSize > b.size() - dirOffset)
        return bad("its directory lies outside the file");
    // Each entry takes at least 46 bytes of directory: more than that cannot be there.
    if (count > dirSize / 46 + 1) return bad("it claims more entries than its directory holds");
    ZipArchive z;
    z.bytes_ = b;
    z.origin_ = origin;
    size_t at = dirOffset;
    for (uint64_t i = 0; i < count; ++i) {
        if (at + 46 > dirOffset + dirSize || le(b, at, 4) != kCentralHeader)
            return bad("a damaged directory entry");
        const uint64_t method = le(b, at + 10, 2);
        uint64_t compressed = le(b, at + 20, 4), size = le(b, at + 24, 4);
        const size_t nameLength = le(b, at + 28, 2), extraLength = le(b, at + 30, 2),
                     commentLength = le(b, at + 32, 2);
        uint64_t local = le(b, at + 42, 4);
        const size_t next = at + 46 + nameLength + extraLength + commentLength;
        if (next > dirOffset + dirSize) return bad("a directory entry runs past the directory");
        ZipEntry e;
        e.name = std::string(b.substr(at + 46, nameLength));
        // ZIP64 extra field: sizes and offset that did not fit 32 bits, in this order.
        for (size_t x = at + 46 + nameLength; x + 4 <= at + 46 + nameLength + extraLength;) {
            const uint64_t id = le(b, x, 2), length = le(b, x + 2, 2);
            if (x + 4 + length > at + 46 + nameLength + extraLength) break;
            if (id == 1) {
                size_t field = x + 4;
                auto take = [&](uint64_t& v) {
                    if (v == 0xFFFFFFFF && field + 8 <= x + 4 + length) {
                        v = le(b, field, 8);
                        field += 8;
                    }
                };
                take(size);
                take(compressed);
                take(local);
            }
            x += 4 + length;
        }
        // The data starts after the local header, whose name and extra lengths may differ.
        if (local > b.size() || b.size() - local < 30 || le(b, local, 4) != kLocalHeader)
            return bad("entry '" + e.name + "' has no local header where the directory says");
        const uint64_t dataStart = local + 30 + le(b, local + 26, 2) + le(b, local + 28, 2);
        if (dataStart > b.size() || compressed > b.size() - dataStart)
            return bad("entry '" + e.name + "' runs past the end of the file");
        e.offset = dataStart;
        e.stored = method == 0;
        e.size = e.stored ? size : compressed;
        if (e.stored && size != compressed) return bad("entry '" + e.name + "' has two sizes");
        z.entries_.push_back(std::move(e));
        at = next;
    }
    return z;
}

const ZipEntry* ZipArchive::find(std::string_view name) const {
    for (const auto& e : entries_)
        if (e.name == name) return &e;
    return nullptr;
}

Result<std::string_view> ZipArchive::read(const ZipEntry& e) const {
    if (!e.stored)
        return fail(ErrorCode::InvalidInput, "'" + origin_ + "': entry '" + e.name +
                                                 "' is compressed; torch.save stores its "
                                                 "entries uncompressed, so this is not one of its "
                                                 "files");
    return bytes_.substr(e.offset, e.size);
}

} // namespace esper
