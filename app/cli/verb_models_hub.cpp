// `esper models download|size|list|where|remove`: models from the Hugging Face hub in the models
// folder (hub/hub_client.h does the fetching).
#include "args.h"
#include "verbs.h"

#include "bundle/model_registry.h"
#include "hub_client.h"

#include <QCoreApplication>
#include <QDir>
#include <QDirIterator>
#include <QFileInfo>
#include <cstdio>
#include <cstring>
#include <unistd.h>

namespace esper::cli {

namespace {

QString modelsDir(const Args& args) {
    return QString::fromStdString(args.get("models-dir", defaultModelsDir()));
}

QString human(qint64 bytes) {
    if (bytes < 0) return "?";
    const char* units[] = {"B", "KB", "MB", "GB", "TB"};
    double v = double(bytes);
    int u = 0;
    while (v >= 1000 && u < 4) {
        v /= 1000;
        ++u;
    }
    return QString::number(v, 'f', u ? 1 : 0) + " " + units[u];
}

// The files to fetch: the registry's list for a model it knows, else the repository's.
Result<QStringList> filesOf(const hub::HubSettings& s, const QString& repo,
                            const QString& revision) {
    if (const RegistryModel* m = findRegisteredModel(repo.toStdString())) {
        QStringList files;
        for (const auto& f : m->files)
            files << QString::fromStdString(f.name);
        return files;
    }
    auto listed = hub::listRepoFiles(s, repo, revision);
    ESPER_TRY(listed);
    const QStringList wanted = hub::filesToFetch(listed.value());
    if (wanted.isEmpty())
        return fail(ErrorCode::NotFound, repo.toStdString() +
                                             " has no model files ESPER Studio reads (config.json "
                                             "and safetensors weights)");
    return wanted;
}

int download(const Args& args) {
    const QString repo = QString::fromStdString(args.positional()[0]);
    const QString revision = QString::fromStdString(args.get("revision", "main"));
    const auto s = hub::settingsFromEnvironment(QString::fromStdString(args.get("endpoint")));
    const QString cached = hub::findInHfCache(repo, revision);
    if (!cached.isEmpty() && !args.has("no-cache")) {
        std::printf("%s is in your Hugging Face cache: %s (used in place; --no-cache fetches it "
                    "again)\n",
                    qPrintable(repo), qPrintable(cached));
        return 0;
    }
    auto files = filesOf(s, repo, revision);
    if (!files) return report("models download", files.error(), 1);
    const QString dest = modelsDir(args) + "/" + repo;
    for (const QString& file : files.value()) {
        const QUrl url = hub::resolveUrl(s, repo, file, revision);
        auto remote = hub::inspect(s, url);
        if (!remote) return report("models download", remote.error(), 1);
        const QString target = dest + "/" + file;
        if (QFileInfo(target).size() == remote->size && remote->size >= 0) {
            std::printf("  %s: already here\n", qPrintable(file));
            continue;
        }
        const bool tty = ::isatty(2);
        auto ok = hub::download(s, url, target, remote.value(), [&](qint64 done, qint64 total) {
            if (tty)
                std::fprintf(stderr, "\r\033[K  %s  %s / %s", qPrintable(file),
                             qPrintable(human(done)), qPrintable(human(total)));
        });
        if (tty) std::fprintf(stderr, "\r\033[K");
        if (!ok) return report("models download", ok.error(), 1);
        std::printf("  %s: %s%s\n", qPrintable(file), qPrintable(human(QFileInfo(target).size())),
                    remote->sha256.isEmpty() ? "" : ", sha256 verified");
    }
    std::printf("%s is in %s\n", qPrintable(repo), qPrintable(dest));
    return 0;
}

int size(const Args& args) {
    const QString repo = QString::fromStdString(args.positional()[0]);
    const QString revision = QString::fromStdString(args.get("revision", "main"));
    const auto s = hub::settingsFromEnvironment(QString::fromStdString(args.get("endpoint")));
    auto files = filesOf(s, repo, revision);
    if (!files) return report("models size", files.error(), 1);
    qint64 total = 0;
    for (const QString& file : files.value()) {
        if (!file.endsWith(".safetensors")) continue;
        auto bytes = hub::safetensorsWeightBytes(s, hub::resolveUrl(s, repo, file, revision));
        if (!bytes) return report("models size", bytes.error(), 1);
        std::printf("  %s: %s of weights\n", qPrintable(file), qPrintable(human(bytes.value())));
        total += bytes.value();
    }
    std::printf("%s needs %s of memory for its weights as stored (read from the headers "
                "alone)\n",
                qPrintable(repo), qPrintable(human(total)));
    return 0;
}

int list(const Args& args) {
    const QString dir = modelsDir(args);
    int found = 0;
    QDirIterator it(dir, {"config.json"}, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QFileInfo config(it.next());
        qint64 bytes = 0;
        for (const auto& f : config.dir().entryInfoList(QDir::Files))
            bytes += f.size();
        std::printf("%-40s %10s  %s\n",
                    qPrintable(QDir(dir).relativeFilePath(config.absolutePath())),
                    qPrintable(human(bytes)), qPrintable(config.absolutePath()));
        ++found;
    }
    if (!found) std::printf("no models in %s yet (esper models download REPO)\n", qPrintable(dir));
    return 0;
}

int where(const Args& args) {
    const QString repo = QString::fromStdString(args.positional()[0]);
    const QString local = modelsDir(args) + "/" + repo;
    if (QFileInfo::exists(local + "/config.json")) {
        std::printf("%s\n", qPrintable(local));
        return 0;
    }
    const QString cached =
        hub::findInHfCache(repo, QString::fromStdString(args.get("revision", "main")));
    if (!cached.isEmpty()) {
        std::printf("%s\n", qPrintable(cached));
        return 0;
    }
    return report("models where",
                  repo.toStdString() + " is neither in " + local.toStdString() +
                      " nor in the Hugging Face cache",
                  1);
}

int remove(const Args& args) {
    const QString repo = QString::fromStdString(args.positional()[0]);
    const QString dir = modelsDir(args);
    const QString target = QDir::cleanPath(dir + "/" + repo);
    // Only a model folder inside the models folder is removed, never anything above it.
    if (repo.contains("..") || !target.startsWith(QDir::cleanPath(dir) + "/") ||
        !QFileInfo::exists(target + "/config.json"))
        return report("models remove",
                      repo.toStdString() + " is not a model in " + dir.toStdString(), 1);
    if (!QDir(target).removeRecursively())
        return report("models remove", "could not remove all of " + target.toStdString(), 1);
    std::printf("removed %s\n", qPrintable(target));
    return 0;
}

} // namespace

int runModelsHub(int argc, char** argv, const char* help) {
    QCoreApplication app(argc, argv); // Qt Network needs one
    const std::string sub = argv[2];
    Args args;
    if (auto stop =
            args.parseVerb(argc - 1, argv + 1, ("models " + sub).c_str(), help,
                           {{"revision"}, {"endpoint"}, {"models-dir"}, {"no-cache", false}}))
        return *stop;
    const bool needsRepo = sub != "list";
    if (needsRepo && args.positional().size() != 1)
        return report(("models " + sub).c_str(),
                      "give one repository, such as gpt2 or openai/clip-vit-base-patch32", 2, help);
    if (sub == "download") return download(args);
    if (sub == "size") return size(args);
    if (sub == "list") return list(args);
    if (sub == "where") return where(args);
    return remove(args);
}

} // namespace esper::cli
