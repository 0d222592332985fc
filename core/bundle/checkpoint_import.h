// PyTorch checkpoints turned into the project's own formats, without running anything
// (io/torch_checkpoint.h reads them):
//  - ClipCap (gpt.* + clip_project.*, also under a prefix such as an ESPER Lightning
//    checkpoint's "policy.model."): a GPT-2 model folder (config.json inferred from the shapes,
//    model.safetensors), the mapper and an esper.json, so the folder is a bundle;
//  - a mapper (any checkpoint whose weights hold one ClipCap MLP under some prefix, such as a
//    Lightning checkpoint's "model.mapper."): mapper.safetensors under the names bundles use;
//  - Wav2CLIP (audio_encoder.* + audio_transform.*, as the released Lightning checkpoint holds
//    them): a Wav2CLIP folder (model.safetensors with the encoder's tensors, config.json);
//  - anything else: its state dict as model.safetensors, tensors and dtypes as they are;
//  - a Hugging Face model folder: its config, safetensors and tokenizer files copied (or linked).
#pragma once

#include "util/result.h"

#include <string>
#include <vector>

namespace esper {

enum class ImportKind { Auto, ClipCap, Mapper, Wav2Clip, Raw, Folder };
enum class MapperInput { Auto, Scaled, Raw };
Result<ImportKind> parseImportKind(const std::string& name);
const char* importKindName(ImportKind kind);

struct ImportOptions {
    ImportKind kind = ImportKind::Auto;
    // ClipCap: GPT-2's head count, which no tensor shape holds; 0 takes it from the GPT-2 sizes
    // (768: 12, 1024: 16, 1280: 20, 1600: 25).
    int64_t heads = 0;
    // A Hugging Face folder (config.json and safetensors) is linked rather than copied.
    bool link = false;
    // ClipCap's bundle: the CLIP model and the GPT-2 tokenizer esper.json names (ids or paths).
    // No CLIP given: the registry's ViT-B/32 when the mapper reads 512-d features; otherwise
    // no esper.json is written and a note says to give one.
    std::string clip;
    std::string tokenizer = "gpt2";
    // Whether the mapper divides its input as ESPER does. Auto: ClipCap's own checkpoints (no
    // prefix) read raw features; an ESPER checkpoint (under "policy.") scaled ones.
    MapperInput mapperInput = MapperInput::Auto;
};

struct ImportReport {
    ImportKind kind = ImportKind::Raw;
    std::vector<std::string> written; // files, as paths
    std::vector<std::string> notes;   // for people: what was inferred, what was left out
};

Result<ImportReport> importCheckpoint(const std::string& file, const std::string& outDir,
                                      const ImportOptions& options = {});

} // namespace esper
