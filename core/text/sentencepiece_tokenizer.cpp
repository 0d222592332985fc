#include "text/sentencepiece_tokenizer.h"

#include "spm_shim/spm_shim_api.h"

#include <cstdlib>
#include <dlfcn.h>
#include <filesystem>
#include <unistd.h>

#ifndef ESPER_SPM_SHIM_BUILD_PATH
#define ESPER_SPM_SHIM_BUILD_PATH ""
#endif

namespace esper {
namespace {

// The wrapper library's entry points; see spm_shim_api.h for why it is loaded at run time.
struct ShimApi {
    decltype(&esper_spm_api_version) apiVersion = nullptr;
    decltype(&esper_spm_load) load = nullptr;
    decltype(&esper_spm_free) free = nullptr;
    decltype(&esper_spm_encode) encode = nullptr;
    decltype(&esper_spm_decode) decode = nullptr;
    decltype(&esper_spm_piece_count) pieceCount = nullptr;
    decltype(&esper_spm_piece_to_id) pieceToId = nullptr;
    decltype(&esper_spm_special_id) specialId = nullptr;
    decltype(&esper_spm_train) train = nullptr;
    std::string error;
};

std::vector<std::string> shimCandidates() {
    namespace fs = std::filesystem;
    std::vector<std::string> paths;
    if (const char* env = std::getenv("ESPER_SPM_SHIM")) paths.emplace_back(env);
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        paths.push_back((exe.parent_path() / "libesper_spm.so").string());
        paths.push_back((exe.parent_path() / "../lib/esper/libesper_spm.so").string());
    }
    if (*ESPER_SPM_SHIM_BUILD_PATH) paths.emplace_back(ESPER_SPM_SHIM_BUILD_PATH);
    return paths;
}

const ShimApi& shim() {
    static const ShimApi api = [] {
        ShimApi a;
#if defined(__SANITIZE_ADDRESS__)
        // AddressSanitizer aborts on RTLD_DEEPBIND, and without it the two protobufs meet.
        a.error = "sentencepiece is not available in this sanitizer build (its library must be "
                  "loaded with RTLD_DEEPBIND, which AddressSanitizer refuses)";
        return a;
#endif
        void* handle = nullptr;
        std::string tried;
        for (const auto& path : shimCandidates()) {
            if (!std::filesystem::exists(path)) continue;
            handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
            if (handle) break;
            tried += std::string(" ") + ::dlerror();
        }
        if (!handle) {
            a.error = "the sentencepiece support library libesper_spm.so was not found next to "
                      "the program or in the build tree (set ESPER_SPM_SHIM to its path)" +
                      tried;
            return a;
        }
        auto sym = [&](auto& fn, const char* name) {
            fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(::dlsym(handle, name));
            if (!fn && a.error.empty()) a.error = std::string("libesper_spm.so lacks ") + name;
        };
        sym(a.apiVersion, "esper_spm_api_version");
        sym(a.load, "esper_spm_load");
        sym(a.free, "esper_spm_free");
        sym(a.encode, "esper_spm_encode");
        sym(a.decode, "esper_spm_decode");
        sym(a.pieceCount, "esper_spm_piece_count");
        sym(a.pieceToId, "esper_spm_piece_to_id");
        sym(a.specialId, "esper_spm_special_id");
        sym(a.train, "esper_spm_train");
        if (a.error.empty() && a.apiVersion() != ESPER_SPM_API_VERSION)
            a.error = "libesper_spm.so is from another build of ESPER Studio";
        return a;
    }();
    return api;
}

} // namespace

struct SentencePieceTokenizer::Impl {
    esper_spm* model = nullptr;
    ~Impl() {
        if (model) shim().free(model);
    }
};

SentencePieceTokenizer::SentencePieceTokenizer(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
SentencePieceTokenizer::~SentencePieceTokenizer() = default;

Result<std::unique_ptr<SentencePieceTokenizer>>
SentencePieceTokenizer::load(const std::string& modelPath) {
    const ShimApi& api = shim();
    if (!api.error.empty()) return fail(api.error);
    if (!std::filesystem::exists(modelPath))
        return fail("sentencepiece model '" + modelPath + "' does not exist");
    char err[512] = {0};
    esper_spm* model = api.load(modelPath.c_str(), err, sizeof err);
    if (!model) return fail("cannot load sentencepiece model '" + modelPath + "': " + err);
    auto impl = std::make_unique<Impl>();
    impl->model = model;
    return std::unique_ptr<SentencePieceTokenizer>(new SentencePieceTokenizer(std::move(impl)));
}

Result<void> SentencePieceTokenizer::train(const std::string& inputPath,
                                           const std::string& modelPrefix, int vocabSize,
                                           const std::string& extraArgs) {
    const ShimApi& api = shim();
    if (!api.error.empty()) return fail(api.error);
    std::string args = "--input=" + inputPath + " --model_prefix=" + modelPrefix +
                       " --vocab_size=" + std::to_string(vocabSize) +
                       " --minloglevel=2 --num_threads=1";
    if (!extraArgs.empty()) args += " " + extraArgs;
    char err[512] = {0};
    if (api.train(args.c_str(), err, sizeof err) != 0)
        return fail("sentencepiece training on '" + inputPath + "' failed: " + err);
    return {};
}

std::vector<int> SentencePieceTokenizer::encode(std::string_view text) const {
    std::vector<int> ids(text.size() + 8);
    int n = shim().encode(impl_->model, text.data(), text.size(), ids.data(),
                          static_cast<int>(ids.size()));
    if (n < 0) return {};
    if (static_cast<size_t>(n) > ids.size()) {
        ids.resize(static_cast<size_t>(n));
        n = shim().encode(impl_->model, text.data(), text.size(), ids.data(), n);
    }
    ids.resize(static_cast<size_t>(std::max(n, 0)));
    return ids;
}

std::vector<int> SentencePieceTokenizer::encodeWithSpecials(std::string_view text,
                                                            bool addBos) const {
    std::vector<int> ids;
    if (addBos && bosId() >= 0) ids.push_back(bosId());
    while (!text.empty()) {
        const size_t s = text.find("<s>"), e = text.find("</s>");
        const size_t at = std::min(s, e);
        const auto body = encode(text.substr(0, at));
        ids.insert(ids.end(), body.begin(), body.end());
        if (at == std::string_view::npos) break;
        ids.push_back(at == s ? bosId() : eosId());
        text.remove_prefix(at + (at == s ? 3 : 4));
    }
    return ids;
}

std::string SentencePieceTokenizer::decode(const std::vector<int>& ids) const {
    std::string out(ids.size() * 8 + 16, '\0');
    int n = shim().decode(impl_->model, ids.data(), static_cast<int>(ids.size()), out.data(),
                          static_cast<int>(out.size()));
    if (n < 0) return {};
    if (static_cast<size_t>(n) > out.size()) {
        out.resize(static_cast<size_t>(n));
        n = shim().decode(impl_->model, ids.data(), static_cast<int>(ids.size()), out.data(), n);
    }
    out.resize(static_cast<size_t>(std::max(n, 0)));
    return out;
}

size_t SentencePieceTokenizer::vocabSize() const {
    return static_cast<size_t>(shim().pieceCount(impl_->model));
}
int SentencePieceTokenizer::bosId() const {
    return shim().specialId(impl_->model, 1);
}
int SentencePieceTokenizer::eosId() const {
    return shim().specialId(impl_->model, 2);
}
int SentencePieceTokenizer::unkId() const {
    return shim().specialId(impl_->model, 0);
}

} // namespace esper
