#include "spm_shim/spm_shim_api.h"

#include <cstring>
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>
#include <string>
#include <vector>

struct esper_spm {
    sentencepiece::SentencePieceProcessor processor;
};

namespace {
void copyError(const std::string& message, char* err, size_t errLen) {
    if (!err || errLen == 0) return;
    std::strncpy(err, message.c_str(), errLen - 1);
    err[errLen - 1] = '\0';
}
} // namespace

extern "C" {

int esper_spm_api_version(void) {
    return ESPER_SPM_API_VERSION;
}

esper_spm* esper_spm_load(const char* model_path, char* err, size_t err_len) {
    auto* model = new esper_spm();
    const auto status = model->processor.Load(model_path);
    if (!status.ok()) {
        copyError(status.ToString(), err, err_len);
        delete model;
        return nullptr;
    }
    return model;
}

void esper_spm_free(esper_spm* model) {
    delete model;
}

int esper_spm_encode(const esper_spm* model, const char* text, size_t len, int* ids, int cap) {
    std::vector<int> out;
    if (!model->processor.Encode(std::string(text, len), &out).ok()) return -1;
    for (size_t i = 0; i < out.size() && static_cast<int>(i) < cap; ++i)
        ids[i] = out[i];
    return static_cast<int>(out.size());
}

int esper_spm_decode(const esper_spm* model, const int* ids, int n, char* out, int cap) {
    std::string text;
    if (!model->processor.Decode(std::vector<int>(ids, ids + n), &text).ok()) return -1;
    std::memcpy(out, text.data(), std::min<size_t>(text.size(), static_cast<size_t>(cap)));
    return static_cast<int>(text.size());
}

int esper_spm_piece_count(const esper_spm* model) {
    return model->processor.GetPieceSize();
}

int esper_spm_piece_to_id(const esper_spm* model, const char* piece) {
    return model->processor.PieceToId(piece);
}

int esper_spm_special_id(const esper_spm* model, int which) {
    switch (which) {
    case 0:
        return model->processor.unk_id();
    case 1:
        return model->processor.bos_id();
    case 2:
        return model->processor.eos_id();
    case 3:
        return model->processor.pad_id();
    default:
        return -1;
    }
}

int esper_spm_train(const char* args, char* err, size_t err_len) {
    const auto status = sentencepiece::SentencePieceTrainer::Train(args);
    if (!status.ok()) {
        copyError(status.ToString(), err, err_len);
        return 1;
    }
    return 0;
}

} // extern "C"
