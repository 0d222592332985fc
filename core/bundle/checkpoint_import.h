// PyTorch checkpoints turned into the project's own formats, without running anything
// (io/torch_checkpoint.h reads them):
//  - ClipCap (gpt.* + clip_project.*): a GPT-2 model folder (config.json inferred from the
//    shapes, model.safetensors) and the mapper;
//  - a mapper (any checkpoint whose weights hold one ClipCap MLP under some prefix, such as a
//    Lightning checkpoint's "model.mapper."): mapper.safetensors under the names bundles use;
//  - anything else: its state dict as model.safetensors, tensors and dtypes as they are;
//  - a Hugging Face model folder: its config, safetensors and tokenizer files copied (or linked).
#pragma once

#include "util/result.h"

#include <string>
#include <vector>

namespace esper {

enum class ImportKind { Auto, ClipCap, Mapper, Raw, Folder };
Result<ImportKind> parseImportKind(const std::string& name);
const char* importKindName(ImportKind kind);

struct ImportOptions {
    ImportKind kind = ImportKind::Auto;
    // ClipCap: GPT-2's head count, which no tensor shape holds; 0 takes it from the GPT-2 sizes
    // (768: 12, 1024: 16, 1280: 20, 1600: 25).
    int64_t heads = 0;
    // A Hugging Face folder (config.json and safetensors) is linked rather than copied.
    bool link = false;
};

struct ImportReport {
    ImportKind kind = ImportKind::Raw;
    std::vector<std::string> written; // files, as paths
    std::vector<std::string> notes;   // for people: what was inferred, what was left out
};

Result<ImportReport> importCheckpoint(const std::string& file, const std::string& outDir,
                                      const ImportOptions& options = {});

} // namespace esper
