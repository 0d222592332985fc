#include "util/file_util.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace esper {

Result<void> checkRegularFile(const std::string& path, uint64_t maxBytes) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (ec || !fs::exists(status))
        return fail(ErrorCode::NotFound,
                    "cannot open '" + path +
                        "': " + (ec ? ec.message() : std::string(std::strerror(ENOENT))));
    if (fs::is_directory(status))
        return fail(ErrorCode::InvalidInput, "'" + path + "' is a folder, not a file");
    if (!fs::is_regular_file(status))
        return fail(ErrorCode::InvalidInput,
                    "'" + path +
                        "' is not a regular file (a device, pipe or socket); it is not read");
    const uint64_t size = fs::file_size(path, ec);
    if (!ec && size > maxBytes)
        return fail(ErrorCode::InvalidInput,
                    "'" + path + "' is " + std::to_string(size) + " bytes, more than the " +
                        std::to_string(maxBytes >> 20) + " MiB this reads whole");
    return {};
}

Result<std::string> readTextFile(const std::string& path) {
    ESPER_TRY(checkRegularFile(path));
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return fail(errno == ENOENT ? ErrorCode::NotFound : ErrorCode::Failed,
                    "cannot open '" + path + "': " + std::strerror(errno));
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return fail("cannot read '" + path + "'");
    return ss.str();
}

Result<void> copyFileOver(const std::string& from, const std::string& to, const std::string& what) {
    namespace fs = std::filesystem;
    if (fs::absolute(from) == fs::absolute(to)) return {};
    std::error_code ec;
    fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
    if (ec) return fail("cannot copy " + what + " " + from + ": " + ec.message());
    return {};
}

Result<void> writeFileAtomic(const std::string& path, std::string_view bytes) {
    return writeFileAtomic(path, std::vector<std::string_view>{bytes});
}

Result<void> writeFileAtomic(const std::string& path, const std::vector<std::string_view>& pieces) {
    const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return fail("cannot create '" + tmp + "': " + std::strerror(errno));
    for (const std::string_view bytes : pieces) {
        size_t done = 0;
        while (done < bytes.size()) {
            ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
            if (n < 0) {
                if (errno == EINTR) continue;
                std::string err = std::strerror(errno);
                ::close(fd);
                ::unlink(tmp.c_str());
                return fail("cannot write '" + tmp + "': " + err);
            }
            done += static_cast<size_t>(n);
        }
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        ::unlink(tmp.c_str());
        return fail("cannot flush '" + tmp + "'");
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::string err = std::strerror(errno);
        ::unlink(tmp.c_str());
        return fail("cannot replace '" + path + "': " + err);
    }
    return {};
}

} // namespace esper
