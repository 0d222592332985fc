#include "util/subprocess.h"

#include "util/file_util.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/wait.h>
#include <unistd.h>

namespace esper {
namespace {

std::vector<char*> cArgs(const std::vector<std::string>& argv) {
    std::vector<char*> out;
    for (const auto& a : argv)
        out.push_back(const_cast<char*>(a.c_str()));
    out.push_back(nullptr);
    return out;
}

std::string tempPath(const char* tag) {
    std::string p =
        (std::filesystem::temp_directory_path() / (std::string("esper-") + tag + "-XXXXXX"))
            .string();
    const int fd = ::mkstemp(p.data());
    if (fd >= 0) ::close(fd);
    return p;
}

} // namespace

std::string findOnPath(const std::string& name) {
    if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : "";
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/bin:/bin";
    size_t start = 0;
    while (start <= dirs.size()) {
        size_t colon = dirs.find(':', start);
        if (colon == std::string::npos) colon = dirs.size();
        const std::string candidate = dirs.substr(start, colon - start) + "/" + name;
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
        start = colon + 1;
    }
    return "";
}

Result<std::unique_ptr<LineProcess>> LineProcess::start(const std::vector<std::string>& argv,
                                                        const std::string& workDir) {
    if (argv.empty()) return fail("no command to run");
    int toChild[2], fromChild[2];
    if (::pipe2(toChild, O_CLOEXEC) != 0) return fail("cannot create a pipe");
    if (::pipe2(fromChild, O_CLOEXEC) != 0) {
        ::close(toChild[0]);
        ::close(toChild[1]);
        return fail("cannot create a pipe");
    }
    std::unique_ptr<LineProcess> p(new LineProcess());
    p->stderrPath_ = tempPath("stderr");
    auto args = cArgs(argv);
    const pid_t pid = ::fork();
    if (pid < 0) return fail(std::string("cannot start ") + argv[0] + ": " + std::strerror(errno));
    if (pid == 0) {
        ::dup2(toChild[0], 0);
        ::dup2(fromChild[1], 1);
        const int err = ::open(p->stderrPath_.c_str(), O_WRONLY | O_TRUNC);
        if (err >= 0) ::dup2(err, 2);
        if (!workDir.empty() && ::chdir(workDir.c_str()) != 0) ::_exit(126);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::close(toChild[0]);
    ::close(fromChild[1]);
    p->pid_ = pid;
    p->in_ = toChild[1];
    p->out_ = fromChild[0];
    return p;
}

LineProcess::~LineProcess() {
    if (pid_ > 0) {
        ::kill(pid_, SIGTERM);
        finish();
    }
    if (!stderrPath_.empty()) ::unlink(stderrPath_.c_str());
}

Result<void> LineProcess::writeLine(const std::string& line) {
    const std::string data = line + "\n";
    size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(in_, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return fail("the child process stopped reading (" + errorOutput() + ")");
        done += static_cast<size_t>(n);
    }
    return {};
}

Result<std::string> LineProcess::readLine() {
    while (true) {
        const size_t nl = buffer_.find('\n');
        if (nl != std::string::npos) {
            std::string line = buffer_.substr(0, nl);
            buffer_.erase(0, nl + 1);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            return line;
        }
        char chunk[4096];
        const ssize_t n = ::read(out_, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0)
            return fail("the child process ended without answering (" + errorOutput() + ")");
        buffer_.append(chunk, static_cast<size_t>(n));
    }
}

int LineProcess::finish() {
    if (in_ >= 0) ::close(in_);
    if (out_ >= 0) ::close(out_);
    in_ = out_ = -1;
    int status = 0;
    if (pid_ > 0) ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string LineProcess::errorOutput() const {
    auto text = readTextFile(stderrPath_);
    std::string s = text ? text.value() : "";
    if (s.size() > 2000) s = s.substr(s.size() - 2000);
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.pop_back();
    return s.empty() ? "no message" : s;
}

Result<int> runProcess(const std::vector<std::string>& argv, std::string* output,
                       const std::string& workDir) {
    if (argv.empty()) return fail("no command to run");
    const std::string outPath = tempPath("out");
    auto args = cArgs(argv);
    const pid_t pid = ::fork();
    if (pid < 0) return fail(std::string("cannot start ") + argv[0]);
    if (pid == 0) {
        const int fd = ::open(outPath.c_str(), O_WRONLY | O_TRUNC);
        if (fd >= 0) {
            ::dup2(fd, 1);
            ::dup2(fd, 2);
        }
        const int devnull = ::open("/dev/null", O_RDONLY);
        if (devnull >= 0) ::dup2(devnull, 0);
        if (!workDir.empty() && ::chdir(workDir.c_str()) != 0) ::_exit(126);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (output) {
        auto text = readTextFile(outPath);
        *output = text ? text.value() : "";
    }
    ::unlink(outPath.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

} // namespace esper
