// `esper models download|size|list|where|remove`: models from the Hugging Face hub in the models
// folder (hub/hub_client.h does the fetching).
#include "args.h"
#include "verbs.h"

#include "bundle/hf_cache.h"
#include "bundle/model_registry.h"
#include "hub_client.h"
#include "model_download.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <cstdio>
#include <cstring>
#include <unistd.h>
#include <vector>

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

void printJson(const QJsonObject& o) {
    std::printf("%s\n", QJsonDocument(o).toJson(QJsonDocument::Compact).constData());
}

// Progress goes to stderr (a live line on a terminal); with --json stdout holds only the one
// object at the end, for scripts.
int download(const Args& args) {
    const QString repo = QString::fromStdString(args.positional()[0]);
    const QString revision = QString::fromStdString(args.get("revision", "main"));
    const auto s = hub::settingsFromEnvironment(QString::fromStdString(args.get("endpoint")));
    const bool json = args.has("json");
    const QString cached =
        QString::fromStdString(findInHfCache(repo.toStdString(), revision.toStdString()));
    if (!cached.isEmpty() && !args.has("no-cache")) {
        if (json)
            printJson({{"id", repo}, {"path", cached}, {"source", "huggingface-cache"}});
        else
            std::printf("%s is in your Hugging Face cache: %s (used in place; --no-cache fetches "
                        "it again)\n",
                        qPrintable(repo), qPrintable(cached));
        return 0;
    }
    const QString dest = modelsDir(args) + "/" + repo;
    const bool tty = ::isatty(2);
    FILE* lines = json ? stderr : stdout;
    QJsonArray files;
    QString converted;
    hub::ModelProgress progress;
    progress.bytes = [&](const QString& file, qint64 done, qint64 total) {
        if (tty)
            std::fprintf(stderr, "\r\033[K  %s  %s / %s", qPrintable(file), qPrintable(human(done)),
                         qPrintable(human(total)));
    };
    progress.fileDone = [&](const QString& file, qint64 size, bool sha256) {
        if (tty) std::fprintf(stderr, "\r\033[K");
        std::fprintf(lines, "  %s: %s%s\n", qPrintable(file), qPrintable(human(size)),
                     sha256 ? ", sha256 verified" : "");
        files.append(
            QJsonObject{{"name", file}, {"bytes", size}, {"verified", sha256 ? "sha256" : "size"}});
    };
    progress.converted = [&](const QString& what) {
        converted = what;
        std::fprintf(lines, "  %s\n", qPrintable(what));
    };
    auto ok = hub::downloadModel(s, repo, revision, dest, progress);
    if (tty) std::fprintf(stderr, "\r\033[K");
    if (!ok) return report("models download", ok.error(), 1);
    if (json) {
        QJsonObject o{{"id", repo},
                      {"path", QFileInfo(dest).absoluteFilePath()},
                      {"source", "download"},
                      {"files", files}};
        if (!converted.isEmpty()) o["converted"] = converted;
        printJson(o);
    } else {
        std::printf("%s is in %s\n", qPrintable(repo), qPrintable(dest));
    }
    return 0;
}

int size(const Args& args) {
    const QString repo = QString::fromStdString(args.positional()[0]);
    const auto s = hub::settingsFromEnvironment(QString::fromStdString(args.get("endpoint")));
    auto bytes =
        hub::modelWeightBytes(s, repo, QString::fromStdString(args.get("revision", "main")));
    if (!bytes) return report("models size", bytes.error(), 1);
    if (args.has("json")) {
        printJson({{"id", repo}, {"weight_bytes", bytes.value()}});
        return 0;
    }
    std::printf("%s needs %s of memory for its weights as stored (read from the safetensors "
                "headers alone)\n",
                qPrintable(repo), qPrintable(human(bytes.value())));
    return 0;
}

// Every model folder under the models folder: its id, size, and whether a download of it was
// left unfinished.
int list(const Args& args) {
    struct Local {
        QString id, path;
        qint64 bytes = 0;
        bool partial = false;
    };
    const QString dir = modelsDir(args);
    std::vector<Local> models;
    for (const QString& id : hub::localModels(dir)) {
        Local m{id, QFileInfo(dir + "/" + id).absoluteFilePath()};
        for (const auto& f : QDir(m.path).entryInfoList(QDir::Files))
            m.bytes += f.size();
        m.partial = hub::hasUnfinishedDownload(m.path);
        models.push_back(m);
    }
    if (args.has("json")) {
        QJsonArray out;
        for (const auto& m : models)
            out.append(QJsonObject{
                {"id", m.id}, {"path", m.path}, {"bytes", m.bytes}, {"partial", m.partial}});
        std::printf("%s\n", QJsonDocument(out).toJson(QJsonDocument::Compact).constData());
        return 0;
    }
    for (const auto& m : models)
        std::printf("%-40s %10s%s  %s\n", qPrintable(m.id), qPrintable(human(m.bytes)),
                    m.partial ? " (partial: download it again to finish)" : "", qPrintable(m.path));
    if (models.empty())
        std::printf("no models in %s yet (esper models download REPO)\n", qPrintable(dir));
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
        QString::fromStdString(findInHfCache(repo.toStdString(), args.get("revision", "main")));
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
    auto removed =
        hub::removeLocalModel(modelsDir(args), QString::fromStdString(args.positional()[0]));
    if (!removed) return report("models remove", removed.error(), 1);
    std::printf("removed %s\n", qPrintable(removed.value()));
    return 0;
}

} // namespace

int runModelsHub(int argc, char** argv, const char* help) {
    QCoreApplication app(argc, argv); // Qt Network needs one
    const std::string sub = argv[2];
    Args args;
    if (auto stop = args.parseVerb(
            argc - 1, argv + 1, ("models " + sub).c_str(), help,
            {{"revision"}, {"endpoint"}, {"models-dir"}, {"no-cache", false}, {"json", false}}))
        return *stop;
    const bool needsRepo = sub != "list";
    if (needsRepo && args.positional().size() != 1)
        return report(("models " + sub).c_str(),
                      "give one repository, such as gpt2 or openai/clip-vit-base-patch32", 2, help);
    if (sub == "download") return download(args);
    if (sub == "size") return size(args);
    if (sub == "list") return list(args);
    if (sub == "where" || sub == "path") return where(args);
    return remove(args);
}

} // namespace esper::cli
