// A whole model from the hub: which files it needs (the registry's list for a model it knows,
// else the repository's config, safetensors weights and tokenizer files), fetching them into a
// folder one by one (each resumable and verified, hub_client.h), and the memory its weights
// need. Shared by `esper models` and the studio's model manager.
#pragma once

#include "hub_client.h"

namespace esper::hub {

Result<QStringList> filesForModel(const HubSettings& s, const QString& repo,
                                  const QString& revision = "main");

struct ModelProgress {
    std::function<void(const QString& file, qint64 done, qint64 total)> bytes;
    // A file is in place: its size, and whether its sha256 was checked (else its size).
    std::function<void(const QString& file, qint64 size, bool sha256Checked)> fileDone;
};
Result<void> downloadModel(const HubSettings& s, const QString& repo, const QString& revision,
                           const QString& destDir, const ModelProgress& progress = {},
                           const std::atomic<bool>* cancel = nullptr);

// The memory the model's weights take as stored, from the safetensors headers alone.
Result<qint64> modelWeightBytes(const HubSettings& s, const QString& repo,
                                const QString& revision = "main");

// The models in `modelsDir`: every folder below it holding a config.json, as its id relative to
// `modelsDir` ("org/name"), sorted.
QStringList localModels(const QString& modelsDir);

// Removes DIR/REPO, only when it is a model folder inside `modelsDir` (never anything above it).
// Returns the folder removed.
Result<QString> removeLocalModel(const QString& modelsDir, const QString& repo);

} // namespace esper::hub
