#include "fuzz_targets.h"

#include "bundle/bundle_manifest.h"
#include "bundle/model_registry.h"
#include "datasets/caption_dataset.h"
#include "decode/decode_options.h"
#include "image_header.h"
#include "io/model_config.h"
#include "io/safetensors.h"
#include "io/torch_checkpoint.h"
#include "metrics/eval_set_json.h"
#include "metrics/ptb_tokenizer.h"
#include "quality/caption_quality.h"
#include "styles/style_presets.h"
#include "text/byte_level_bpe.h"
#include "text/clip_tokenizer.h"
#include "text/gpt2_tokenizer.h"
#include "util/file_util.h"
#include "wav_format.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <unistd.h>

namespace esper::fuzz {

namespace {

// Readers that take a path get the bytes in a file of this process's own (in /dev/shm when it
// exists: a file per input is then a memory copy).
// Removed when the process ends.
struct ScratchDir {
    std::string path;
    ScratchDir() {
        const std::string base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp";
        path = base + "/esper-fuzz-" + std::to_string(::getpid());
        std::filesystem::create_directories(path);
    }
    ~ScratchDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

const std::string& scratchDir() {
    static const ScratchDir dir;
    return dir.path;
}

std::string scratchFile(const std::string& name, std::string_view bytes) {
    const std::string path = scratchDir() + "/" + name;
    if (std::FILE* f = std::fopen(path.c_str(), "wb")) {
        std::fwrite(bytes.data(), 1, bytes.size(), f);
        std::fclose(f);
    }
    return path;
}

std::string text(std::string_view bytes) {
    return std::string(bytes);
}

// The tiny tokenizers the tests use, loaded once.
std::string tokenizerDir(const char* name) {
    const char* data = std::getenv("ESPER_TEST_DATA_DIR");
    return std::string(data ? data : ESPER_TEST_DATA_DIR) + "/tokenizers/" + name;
}
const Gpt2Tokenizer* gpt2() {
    static const auto t = Gpt2Tokenizer::load(tokenizerDir("gpt2-tiny") + "/vocab.json",
                                              tokenizerDir("gpt2-tiny") + "/merges.txt");
    return t ? t.value().get() : nullptr;
}
const ClipTokenizer* clip() {
    static const auto t = ClipTokenizer::loadHf(tokenizerDir("clip-tiny") + "/vocab.json",
                                                tokenizerDir("clip-tiny") + "/merges.txt");
    return t ? t.value().get() : nullptr;
}

// Ids from bytes, out-of-range ones included: decode must refuse or skip them, not crash.
std::vector<int> idsOf(std::string_view bytes) {
    std::vector<int> ids;
    for (size_t i = 0; i + 4 <= bytes.size(); i += 4) {
        int id;
        std::memcpy(&id, bytes.data() + i, 4);
        ids.push_back(id);
    }
    return ids;
}

void safetensors(std::string_view b) {
    auto file = SafetensorsFile::open(scratchFile("t.safetensors", b));
    if (!file) return;
    unsigned sum = 0;
    for (const auto& t : file->tensors()) // every byte a tensor claims must be in the file
        if (t.end > t.begin) sum += file->bytes(t)[0] + file->bytes(t)[t.end - t.begin - 1];
    (void)sum;
}

void modelConfig(std::string_view b) {
    (void)parseModelConfig(text(b), "config.json");
}

void bpeVocab(std::string_view b) {
    (void)readBpeFiles(scratchFile("vocab.json", b), tokenizerDir("gpt2-tiny") + "/merges.txt");
}

void bpeMerges(std::string_view b) {
    const auto merges = ByteLevelBpe::parseMerges(b, 100000);
    (void)merges;
}

void gpt2Tokens(std::string_view b) {
    if (const auto* t = gpt2()) {
        const auto ids = t->encode(b);
        (void)t->decode(ids);
        (void)t->decode(idsOf(b));
    }
}

void clipTokens(std::string_view b) {
    if (const auto* t = clip()) {
        (void)t->encodeForModel(b);
        (void)t->decode(idsOf(b));
    }
}

void datasets(std::string_view b) {
    // The first byte picks the reader, as a file's extension would.
    const char* names[] = {"d.json", "d.jsonl", "d.txt"};
    const std::string name = names[b.empty() ? 0 : uint8_t(b[0]) % 3];
    (void)readDataset(scratchFile(name, b.empty() ? b : b.substr(1)));
}

void ptb(std::string_view b) {
    (void)ptbTokenize(b);
    (void)cocoTokenize(b);
}

void bundleManifest(std::string_view b) {
    const std::string dir = scratchDir() + "/bundle";
    std::filesystem::create_directories(dir);
    scratchFile("bundle/esper.json", b);
    (void)readBundleManifest(dir, scratchDir());
}

void modelRegistry(std::string_view b) {
    (void)parseModelRegistry(text(b), "registry.json");
}

void wav(std::string_view b) {
    (void)media::decodeWavBytes(b, "sound.wav");
}

void imageHeader(std::string_view b) {
    if (auto size = media::imageSizeFromHeader(b)) (void)media::checkImageSize(*size, "image");
}

void evalSet(std::string_view b) {
    auto set = parseEvalSetJson(text(b), "eval.json");
    if (!set) return;
    capCaptionLengths(set.value());
    (void)computeTextMetrics(set.value());
}

void decodeJson(std::string_view b) {
    DecodeOptions options;
    if (applyDecodeJson(text(b), options, "decoding")) (void)options.validate();
}

void stylePresets(std::string_view b) {
    (void)parseStylePresets(text(b), "styles.json");
}

void torchCheckpoint(std::string_view b) {
    auto checkpoint = parseTorchCheckpoint(b, "fuzz.pt");
    if (checkpoint) (void)stateDictOf(checkpoint.value());
}

void captionQuality(std::string_view b) {
    // Lines are captions of one dataset, scored by their length so the CLIP-S check runs too.
    std::vector<CaptionToCheck> captions;
    size_t start = 0;
    while (start <= b.size() && captions.size() < 64) {
        const size_t end = std::min(b.find('\n', start), b.size());
        captions.push_back({std::string(b.substr(start, end - start)), double(end - start) / 10.0,
                            (end - start) % 2 == 0});
        start = end + 1;
    }
    (void)checkCaptions(captions);
}

} // namespace

const std::vector<FuzzTarget>& fuzzTargets() {
    static const std::vector<FuzzTarget> targets = {
        {"safetensors", safetensors},
        {"model_config", modelConfig},
        {"bpe_vocab", bpeVocab},
        {"bpe_merges", bpeMerges},
        {"gpt2_tokens", gpt2Tokens},
        {"clip_tokens", clipTokens},
        {"datasets", datasets},
        {"ptb", ptb},
        {"bundle_manifest", bundleManifest},
        {"model_registry", modelRegistry},
        {"wav", wav},
        {"image_header", imageHeader},
        {"eval_set", evalSet},
        {"decode_json", decodeJson},
        {"style_presets", stylePresets},
        {"caption_quality", captionQuality},
        {"torch_checkpoint", torchCheckpoint},
    };
    return targets;
}

const FuzzTarget* findFuzzTarget(std::string_view name) {
    for (const auto& t : fuzzTargets())
        if (name == t.name) return &t;
    return nullptr;
}

} // namespace esper::fuzz
