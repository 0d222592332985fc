#include "review_io.h"

#include "media_kind.h"

#include "review_quality.h"

#include "datasets/caption_dataset.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>

namespace esper::ui {

namespace {

bool keep(const ReviewItem& it, const ExportSelection& which) {
    if (!it.error.isEmpty()) return false;
    return !which.onlyReviewed || it.status == ReviewStatus::Accepted ||
           it.status == ReviewStatus::Edited;
}

QStringList captionsToWrite(const ReviewItem& it, const ExportSelection& which) {
    return which.allCandidates ? it.allCaptions() : QStringList{it.caption};
}

Result<void> writeAtomically(const QString& path, const QByteArray& bytes) {
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        return fail("cannot write " + path.toStdString() + ": " + f.errorString().toStdString());
    f.write(bytes);
    if (!f.commit())
        return fail("cannot write " + path.toStdString() + ": " + f.errorString().toStdString());
    return {};
}

// Review items as the engine's dataset type, for its writers.
CaptionDataset asDataset(const QVector<ReviewItem>& items, const ExportSelection& which) {
    CaptionDataset d;
    for (const auto& it : items) {
        if (!keep(it, which)) continue;
        CaptionRecord r;
        r.imageId = it.imagePath.toStdString();
        r.imagePath = it.imagePath.toStdString();
        for (const auto& c : captionsToWrite(it, which))
            r.references[""].push_back(c.toStdString());
        d.index[r.imageId] = d.records.size();
        d.records.push_back(std::move(r));
    }
    return d;
}

} // namespace

Result<void> saveProject(const QString& path, const QVector<ReviewItem>& items,
                         const QJsonObject& history) {
    QJsonArray a;
    for (const auto& it : items)
        a.append(it.toJson());
    QJsonObject root{{"format", "esper-review-project"}, {"version", 1}, {"items", a}};
    if (!history.isEmpty()) root["history"] = history;
    return writeAtomically(path, QJsonDocument(root).toJson());
}

Result<QVector<ReviewItem>> loadProject(const QString& path) {
    auto project = readProject(path);
    ESPER_TRY(project);
    return project->items;
}

Result<ReviewProject> readProject(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return fail("cannot open " + path.toStdString());
    QJsonParseError err;
    const auto doc = QJsonDocument::fromJson(f.readAll(), &err);
    if (doc.isNull())
        return fail(path.toStdString() + " is not valid JSON: " + err.errorString().toStdString());
    if (doc.object()["format"].toString() != "esper-review-project")
        return fail(path.toStdString() + " is not an ESPER Studio review project");
    ReviewProject project;
    for (const auto& v : doc.object()["items"].toArray())
        project.items.push_back(ReviewItem::fromJson(v.toObject()));
    project.history = doc.object()["history"].toObject();
    return project;
}

Result<QVector<ReviewItem>> importDataset(const QString& path) {
    auto data = readDataset(path.toStdString());
    ESPER_TRY(data);
    QVector<ReviewItem> items;
    const QDir base(QString::fromStdString(data->baseDir));
    for (const auto& r : data->records) {
        ReviewItem it;
        const QString image = QString::fromStdString(r.imagePath.empty() ? r.imageId : r.imagePath);
        it.imagePath = QDir::isAbsolutePath(image) ? image : base.absoluteFilePath(image);
        for (const auto& [style, refs] : r.references)
            for (const auto& ref : refs)
                it.references << QString::fromStdString(ref);
        for (const auto& [style, text] : r.candidates) {
            const QString name = QString::fromStdString(style.empty() ? "caption" : style);
            it.generated[name] = QString::fromStdString(text);
            const auto score = r.candidateClipS.find(style);
            if (score != r.candidateClipS.end()) it.scores[name] = score->second;
        }
        if (!it.generated.isEmpty()) {
            it.caption = it.generated.first();
            it.clipS = it.scores.value(it.generated.firstKey(), -1);
        } else if (!it.references.isEmpty())
            it.caption = it.references.first();
        items.push_back(std::move(it));
    }
    return items;
}

QString sidecarPath(const QString& imagePath, const QString& extension) {
    const QFileInfo image(imagePath);
    return image.dir().filePath(image.completeBaseName() + extension);
}

bool hasSidecar(const QString& imagePath) {
    return QFile::exists(sidecarPath(imagePath, ".txt")) ||
           QFile::exists(sidecarPath(imagePath, ".caption"));
}

ExportReport exportSidecars(const QVector<ReviewItem>& items, const QString& extension,
                            SidecarPolicy policy, const ExportSelection& which) {
    ExportReport report;
    for (const auto& it : items) {
        if (!keep(it, which)) continue;
        const QString sidecar = sidecarPath(it.imagePath, extension);
        QString text = captionsToWrite(it, which).join("\n");
        if (QFile::exists(sidecar)) {
            if (policy == SidecarPolicy::Skip) {
                ++report.skipped;
                continue;
            }
            if (policy != SidecarPolicy::Overwrite) {
                QFile old(sidecar);
                if (!old.open(QIODevice::ReadOnly)) {
                    report.errors << QObject::tr("cannot read %1").arg(sidecar);
                    continue;
                }
                const QString existing = QString::fromUtf8(old.readAll()).trimmed();
                text = policy == SidecarPolicy::Append ? existing + "\n" + text
                                                       : text + "\n" + existing;
            }
        }
        if (auto ok = writeAtomically(sidecar, (text + "\n").toUtf8()); !ok)
            report.errors << QString::fromStdString(ok.error());
        else
            ++report.written;
    }
    return report;
}

Result<void> exportJsonl(const QVector<ReviewItem>& items, const QString& path,
                         const ExportSelection& which, const QualityOptions& options) {
    // The dataset readers' JSONL (image, references), with the review's own fields: who wrote
    // the caption, its status and CLIP-S, and the quality checks' flags.
    const ReviewQuality quality = qualityOf(items, options);
    QByteArray out;
    for (int i = 0; i < items.size(); ++i) {
        const ReviewItem& it = items[i];
        if (!keep(it, which)) continue;
        QJsonObject rec{{"image", it.imagePath},
                        {"image_id", it.imagePath},
                        {"references", QJsonArray::fromStringList(captionsToWrite(it, which))},
                        {"status", statusName(it.status)},
                        {"source", it.source},
                        {"flags", QJsonArray::fromStringList(quality.flags[i])}};
        if (it.clipS >= 0) rec["clip_s"] = it.clipS;
        // A sound keeps the readers' "image" key (their item's path) and says what it is.
        if (media::hasAudioExtension(it.imagePath.toStdString())) {
            rec["modality"] = "audio";
            rec["audio"] = it.imagePath;
        }
        // Every candidate, by style, with where it came from, beside the active caption (the
        // readers leave it be).
        QJsonObject generated;
        const QString active = it.activeCandidate();
        for (auto g = it.generated.begin(); g != it.generated.end(); ++g) {
            QJsonObject candidate{{"caption", g.value()}, {"clip_s", it.scores.value(g.key(), -1)}};
            if (it.origins.contains(g.key())) candidate["origin"] = it.origins[g.key()];
            if (g.key() == active) candidate["active"] = true;
            generated[g.key()] = candidate;
        }
        if (!generated.isEmpty()) rec["generated"] = generated;
        out += QJsonDocument(rec).toJson(QJsonDocument::Compact) + '\n';
    }
    return writeAtomically(path, out);
}

Result<void> exportCoco(const QVector<ReviewItem>& items, const QString& path,
                        const ExportSelection& which) {
    return writeCocoCaptions(asDataset(items, which), path.toStdString());
}

} // namespace esper::ui
