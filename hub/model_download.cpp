#include "model_download.h"

#include "bundle/checkpoint_import.h"

#include "io/safetensors.h"

#include <QDir>
#include <QDirIterator>
#include <QFileInfo>

namespace esper::hub {

namespace {
bool isCheckpoint(const QString& name) {
    return name.endsWith(".pt") || name.endsWith(".pth") || name.endsWith(".ckpt");
}
} // namespace

QList<ModelFile> registryFiles(const HubSettings& s, const RegistryModel& model,
                               const QString& revision) {
    QList<ModelFile> files;
    const QString repo = QString::fromStdString(model.id);
    for (const auto& f : model.files) {
        const QString name = QString::fromStdString(f.name);
        files.push_back({name, f.url.empty() ? resolveUrl(s, repo, name, revision)
                                             : QUrl(QString::fromStdString(f.url))});
    }
    return files;
}

Result<QList<ModelFile>> filesForModel(const HubSettings& s, const QString& repo,
                                       const QString& revision) {
    if (const RegistryModel* m = findRegisteredModel(repo.toStdString()))
        return registryFiles(s, *m, revision);
    auto listed = listRepoFiles(s, repo, revision);
    ESPER_TRY(listed);
    const QStringList wanted = filesToFetch(listed.value());
    if (wanted.isEmpty())
        return fail(ErrorCode::NotFound,
                    repo.toStdString() + " has no model files ESPER Studio reads (config.json and "
                                         "safetensors weights)");
    QList<ModelFile> files;
    for (const QString& name : wanted)
        files.push_back({name, resolveUrl(s, repo, name, revision)});
    return files;
}

Result<void> downloadFiles(const HubSettings& s, const QList<ModelFile>& files,
                           const QString& destDir, const ModelProgress& progress,
                           const std::atomic<bool>* cancel) {
    for (const ModelFile& file : files) {
        auto remote = inspect(s, file.url);
        ESPER_TRY(remote);
        const QString target = destDir + "/" + file.name;
        const bool whole = remote->size >= 0 && QFileInfo(target).size() == remote->size &&
                           !QFileInfo::exists(target + ".incomplete");
        if (!whole) {
            ESPER_TRY(download(
                s, file.url, target, remote.value(),
                [&](qint64 done, qint64 total) {
                    if (progress.bytes) progress.bytes(file.name, done, total);
                },
                cancel));
        }
        if (progress.fileDone)
            progress.fileDone(file.name, QFileInfo(target).size(), !remote->sha256.isEmpty());
    }
    return {};
}

Result<QString> finishModelFolder(const QString& destDir) {
    const QDir dir(destDir);
    if (dir.exists("model.safetensors")) return QString();
    for (const QString& name : dir.entryList(QDir::Files, QDir::Name)) {
        if (!isCheckpoint(name)) continue;
        auto report = importCheckpoint(dir.filePath(name).toStdString(), destDir.toStdString());
        ESPER_TRY(report);
        QStringList notes;
        for (const auto& note : report->notes)
            notes << QString::fromStdString(note);
        return QString("converted %1 (%2): %3")
            .arg(name, importKindName(report->kind), notes.join("; "));
    }
    return QString();
}

Result<void> downloadModel(const HubSettings& s, const QString& repo, const QString& revision,
                           const QString& destDir, const ModelProgress& progress,
                           const std::atomic<bool>* cancel) {
    auto files = filesForModel(s, repo, revision);
    ESPER_TRY(files);
    ESPER_TRY(downloadFiles(s, files.value(), destDir, progress, cancel));
    auto finished = finishModelFolder(destDir);
    ESPER_TRY(finished);
    if (!finished->isEmpty() && progress.converted) progress.converted(finished.value());
    return {};
}

Result<qint64> modelWeightBytes(const HubSettings& s, const QString& repo,
                                const QString& revision) {
    auto files = filesForModel(s, repo, revision);
    ESPER_TRY(files);
    qint64 total = 0;
    for (const ModelFile& file : files.value()) {
        if (file.name.endsWith(".safetensors")) {
            auto bytes = safetensorsWeightBytes(s, file.url);
            ESPER_TRY(bytes);
            total += bytes.value();
        } else if (isCheckpoint(file.name)) {
            auto remote = inspect(s, file.url);
            ESPER_TRY(remote);
            total += std::max<qint64>(remote->size, 0);
        }
    }
    return total;
}

Result<qint64> localWeightBytes(const QString& dir) {
    qint64 total = 0;
    bool any = false;
    for (const QFileInfo& file : QDir(dir).entryInfoList(QDir::Files, QDir::Name)) {
        if (file.fileName().endsWith(".safetensors")) {
            // The engine's own reader: the header is parsed and checked, the data only mapped.
            auto weights = SafetensorsFile::open(file.filePath().toStdString());
            ESPER_TRY(weights);
            for (const auto& t : weights->tensors())
                total += qint64(t.end - t.begin);
            any = true;
        }
    }
    if (!any)
        for (const QFileInfo& file : QDir(dir).entryInfoList(QDir::Files, QDir::Name))
            if (isCheckpoint(file.fileName())) {
                total += file.size();
                any = true;
            }
    if (!any) return fail(ErrorCode::NotFound, dir.toStdString() + " holds no weights");
    return total;
}

QStringList localModels(const QString& modelsDir) {
    QStringList ids;
    QDirIterator it(modelsDir, {"config.json"}, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext())
        ids << QDir(modelsDir).relativeFilePath(QFileInfo(it.next()).absolutePath());
    ids.sort();
    return ids;
}

bool hasUnfinishedDownload(const QString& dir) {
    return !QDir(dir).entryList({"*.incomplete"}, QDir::Files).isEmpty();
}

Result<QString> removeLocalModel(const QString& modelsDir, const QString& repo) {
    const QString dir = QDir::cleanPath(modelsDir + "/" + repo);
    if (repo.isEmpty() || repo.contains("..") ||
        !dir.startsWith(QDir::cleanPath(modelsDir) + "/") ||
        !QFileInfo::exists(dir + "/config.json"))
        return fail(ErrorCode::NotFound,
                    repo.toStdString() + " is not a model in " + modelsDir.toStdString());
    if (!QDir(dir).removeRecursively()) return fail("could not remove all of " + dir.toStdString());
    return dir;
}

} // namespace esper::hub
