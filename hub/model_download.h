// A whole model from the hub: which files it needs (the registry's list for a model it knows,
// else the repository's config, safetensors weights and tokenizer files), fetching them into a
// folder one by one (each resumable and verified, hub_client.h), and the memory its weights
// need. Shared by `esper models` and the studio's model manager.
#pragma once

#include "hub_client.h"

#include "bundle/model_registry.h"

namespace esper::hub {

struct ModelFile {
    QString name; // as saved in the model's folder
    QUrl url;     // the hub's resolve URL, or where the registry says the file is served
};
Result<QList<ModelFile>> filesForModel(const HubSettings& s, const QString& repo,
                                       const QString& revision = "main");
// A registry entry's files: each from its own URL when it names one (Wav2CLIP's checkpoint is a
// GitHub release, not a hub repository), else from the hub.
QList<ModelFile> registryFiles(const HubSettings& s, const RegistryModel& model,
                               const QString& revision = "main");

struct ModelProgress {
    std::function<void(const QString& file, qint64 done, qint64 total)> bytes;
    // A file is in place: its size, and whether its sha256 was checked (else its size).
    std::function<void(const QString& file, qint64 size, bool sha256Checked)> fileDone;
    // Said once the files are in place, when a checkpoint among them was converted.
    std::function<void(const QString& what)> converted;
};
Result<void> downloadModel(const HubSettings& s, const QString& repo, const QString& revision,
                           const QString& destDir, const ModelProgress& progress = {},
                           const std::atomic<bool>* cancel = nullptr);
Result<void> downloadFiles(const HubSettings& s, const QList<ModelFile>& files,
                           const QString& destDir, const ModelProgress& progress = {},
                           const std::atomic<bool>* cancel = nullptr);
// A folder whose weights arrived as a PyTorch checkpoint (.pt, .pth, .ckpt) and not yet as
// safetensors is converted in place (bundle/checkpoint_import.h: nothing in it is run), so it
// loads like any other model folder. Returns what was done, for people; empty when nothing was.
Result<QString> finishModelFolder(const QString& destDir);

// The memory the model's weights take as stored, from the safetensors headers alone (a
// checkpoint's size where the weights are one).
Result<qint64> modelWeightBytes(const HubSettings& s, const QString& repo,
                                const QString& revision = "main");

// The same for a model folder on disk: its safetensors headers (or its checkpoint's size).
Result<qint64> localWeightBytes(const QString& dir);

// The models in `modelsDir`: every folder below it holding a config.json, as its id relative to
// `modelsDir` ("org/name"), sorted.
QStringList localModels(const QString& modelsDir);

// Whether a download into `dir` was left unfinished (a FILE.incomplete beside its files).
bool hasUnfinishedDownload(const QString& dir);

// Removes DIR/REPO, only when it is a model folder inside `modelsDir` (never anything above it).
// Returns the folder removed.
Result<QString> removeLocalModel(const QString& modelsDir, const QString& repo);

} // namespace esper::hub
