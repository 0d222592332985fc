#include "model_download.h"

#include "bundle/model_registry.h"

#include <QDir>
#include <QDirIterator>
#include <QFileInfo>

namespace esper::hub {

Result<QStringList> filesForModel(const HubSettings& s, const QString& repo,
                                  const QString& revision) {
    if (const RegistryModel* m = findRegisteredModel(repo.toStdString())) {
        QStringList files;
        for (const auto& f : m->files)
            files << QString::fromStdString(f.name);
        return files;
    }
    auto listed = listRepoFiles(s, repo, revision);
    ESPER_TRY(listed);
    const QStringList wanted = filesToFetch(listed.value());
    if (wanted.isEmpty())
        return fail(ErrorCode::NotFound,
                    repo.toStdString() + " has no model files ESPER Studio reads (config.json and "
                                         "safetensors weights)");
    return wanted;
}

Result<void> downloadModel(const HubSettings& s, const QString& repo, const QString& revision,
                           const QString& destDir, const ModelProgress& progress,
                           const std::atomic<bool>* cancel) {
    auto files = filesForModel(s, repo, revision);
    ESPER_TRY(files);
    for (const QString& file : files.value()) {
        const QUrl url = resolveUrl(s, repo, file, revision);
        auto remote = inspect(s, url);
        ESPER_TRY(remote);
        const QString target = destDir + "/" + file;
        const bool whole = remote->size >= 0 && QFileInfo(target).size() == remote->size &&
                           !QFileInfo::exists(target + ".incomplete");
        if (!whole) {
            ESPER_TRY(download(
                s, url, target, remote.value(),
                [&](qint64 done, qint64 total) {
                    if (progress.bytes) progress.bytes(file, done, total);
                },
                cancel));
        }
        if (progress.fileDone)
            progress.fileDone(file, QFileInfo(target).size(), !remote->sha256.isEmpty());
    }
    return {};
}

Result<qint64> modelWeightBytes(const HubSettings& s, const QString& repo,
                                const QString& revision) {
    auto files = filesForModel(s, repo, revision);
    ESPER_TRY(files);
    qint64 total = 0;
    for (const QString& file : files.value()) {
        if (!file.endsWith(".safetensors")) continue;
        auto bytes = safetensorsWeightBytes(s, resolveUrl(s, repo, file, revision));
        ESPER_TRY(bytes);
        total += bytes.value();
    }
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
