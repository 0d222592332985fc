#include "models/wav2clip_config.h"

#include "util/file_util.h"
#include "util/json_text.h"

#include <nlohmann/json.hpp>

namespace esper {

const std::string kWav2ClipEncoderPrefix = "audio_encoder.";
const std::string kWav2ClipTransformPrefix = "audio_transform.sequential.";

std::string wav2ClipStagePrefix(size_t stage, int64_t block) {
    return kWav2ClipEncoderPrefix + "layer" + std::to_string(stage + 1) + "." +
           std::to_string(block) + ".";
}

std::string Wav2ClipConfig::json() const {
    nlohmann::json j{{"model_type", "wav2clip"}, {"n_fft", nFft},
                     {"hop_length", hop},        {"sample_rate", sampleRate},
                     {"widths", widths},         {"blocks", blocks},
                     {"mlp_units", mlp},         {"batch_norm_eps", batchNormEps},
                     {"dropout", dropout}};
    if (clipFeatureNorm > 0) j["clip_feature_norm"] = clipFeatureNorm;
    return dumpJson(j, 2);
}

Result<Wav2ClipConfig> parseWav2ClipConfig(const std::string& text, const std::string& origin) {
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return fail("'" + origin + "' is not valid JSON");
    if (j.value("model_type", "") != "wav2clip")
        return fail("'" + origin + "' does not describe a Wav2CLIP model");
    Wav2ClipConfig c;
    try {
        c.nFft = j.value("n_fft", c.nFft);
        c.hop = j.value("hop_length", c.hop);
        c.sampleRate = j.value("sample_rate", c.sampleRate);
        c.widths = j.value("widths", c.widths);
        c.blocks = j.value("blocks", c.blocks);
        c.mlp = j.value("mlp_units", c.mlp);
        c.batchNormEps = j.value("batch_norm_eps", c.batchNormEps);
        c.dropout = j.value("dropout", c.dropout);
        c.clipFeatureNorm = j.value("clip_feature_norm", c.clipFeatureNorm);
    } catch (const nlohmann::json::exception&) {
        return fail(ErrorCode::InvalidInput, "'" + origin + "' has a value of the wrong type");
    }
    const auto positive = [](const std::vector<int64_t>& v, int64_t most) {
        for (auto x : v)
            if (x < 1 || x > most) return false;
        return true;
    };
    if (c.nFft < 16 || c.nFft > 8192 || c.hop < 1 || c.hop > c.nFft || c.sampleRate < 1000 ||
        c.widths.empty() || c.widths.size() != c.blocks.size() || !positive(c.widths, 4096) ||
        !positive(c.blocks, 64) || !positive(c.mlp, 65536) || c.mlp.size() == 1 ||
        !(c.batchNormEps > 0) || !(c.dropout >= 0 && c.dropout < 1) ||
        !(c.clipFeatureNorm >= 0 && c.clipFeatureNorm < 1e6))
        return fail(ErrorCode::InvalidInput,
                    "'" + origin + "' holds an impossible Wav2CLIP layout");
    if (!c.mlp.empty() && c.mlp.front() != c.widths.back())
        return fail(ErrorCode::InvalidInput, "'" + origin + "': the MLP's input (" +
                                                 std::to_string(c.mlp.front()) +
                                                 ") is not the ResNet's output width");
    return c;
}

Result<Wav2ClipConfig> inferWav2ClipConfig(const SafetensorsFile& file) {
    Wav2ClipConfig c;
    c.widths.clear();
    c.blocks.clear();
    for (size_t stage = 0;; ++stage) {
        const TensorInfo* first = file.find(wav2ClipStagePrefix(stage, 0) + "conv1.weight");
        if (!first) break;
        int64_t n = 1;
        while (file.find(wav2ClipStagePrefix(stage, n) + "conv1.weight"))
            ++n;
        c.widths.push_back(first->shape.at(0));
        c.blocks.push_back(n);
    }
    if (c.widths.empty())
        return fail(ErrorCode::InvalidInput,
                    "'" + file.path() + "' holds no Wav2CLIP encoder (no '" +
                        kWav2ClipEncoderPrefix + "layer1.0.conv1.weight')");
    c.mlp.clear();
    for (int index = 0;; index += 3) {
        const TensorInfo* w =
            file.find(kWav2ClipTransformPrefix + std::to_string(index) + ".weight");
        if (!w || w->shape.size() != 2) break;
        if (c.mlp.empty()) c.mlp.push_back(w->shape[1]);
        c.mlp.push_back(w->shape[0]);
    }
    if (const TensorInfo* window = file.find(kWav2ClipEncoderPrefix + "spectrogram.window");
        window && window->shape.size() == 1)
        c.nFft = window->shape[0];
    return c;
}

bool isWav2ClipFolder(const std::string& dir) {
    if (auto text = readTextFile(dir + "/config.json"))
        return parseWav2ClipConfig(text.value(), dir).ok();
    auto file = SafetensorsFile::open(dir + "/model.safetensors");
    return file && file->find(wav2ClipStagePrefix(0, 0) + "conv1.weight") != nullptr;
}

} // namespace esper
