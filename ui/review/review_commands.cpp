#include "review_commands.h"

#include <QFileInfo>
#include <QJsonArray>

namespace esper::ui {

namespace {
void apply(ReviewModel* model, const QVector<BulkEditCommand::Change>& changes) {
    for (const auto& c : changes) {
        const int row = model->rowOf(c.path);
        if (row < 0) continue;
        if (c.setsCaption) model->setCaption(row, c.caption, c.source);
        if (c.setsClipS()) model->setScores(row, c.clipS, -1);
        model->setStatus(row, c.status);
    }
}

QJsonArray changesJson(const QVector<BulkEditCommand::Change>& changes) {
    QJsonArray a;
    for (const auto& c : changes) {
        QJsonObject o{{"image", c.path}, {"status", statusName(c.status)}};
        if (c.setsCaption) {
            o["caption"] = c.caption;
            o["source"] = c.source;
        }
        if (c.setsClipS()) o["clip_s"] = c.clipS;
        a.append(o);
    }
    return a;
}

QVector<BulkEditCommand::Change> changesFrom(const QJsonArray& a) {
    QVector<BulkEditCommand::Change> out;
    for (const auto& v : a) {
        const QJsonObject o = v.toObject();
        BulkEditCommand::Change c{o["image"].toString(),
                                  o["caption"].toString(),
                                  statusFromName(o["status"].toString()),
                                  o.contains("caption"),
                                  o["source"].toString(),
                                  o["clip_s"].toDouble(BulkEditCommand::kKeepClipS)};
        out.push_back(c);
    }
    return out;
}
} // namespace

BulkEditCommand::BulkEditCommand(ReviewModel* model, QVector<Change> changes, const QString& label)
    : model_(model), after_(std::move(changes)) {
    for (const auto& c : after_) {
        const ReviewItem& it = model->item(model->rowOf(c.path));
        before_.push_back({c.path, it.caption, it.status, c.setsCaption, it.source,
                           c.setsClipS() ? it.clipS : kKeepClipS});
    }
    setText(label);
}

BulkEditCommand::BulkEditCommand(ReviewModel* model, QVector<Change> before, QVector<Change> after,
                                 const QString& label)
    : model_(model), before_(std::move(before)), after_(std::move(after)), restored_(true) {
    setText(label);
}

BulkEditCommand* BulkEditCommand::setStatus(ReviewModel* model, int row, ReviewStatus status) {
    const QString path = model->item(row).imagePath;
    return new BulkEditCommand(
        model, {{path, {}, status, false}},
        QObject::tr("%1 %2").arg(statusName(status), QFileInfo(path).fileName()));
}

BulkEditCommand* BulkEditCommand::editCaption(ReviewModel* model, int row, const QString& caption) {
    const QString path = model->item(row).imagePath;
    // The old caption's CLIP-S does not describe the new one: unknown until scored again.
    return new BulkEditCommand(model, {{path, caption, ReviewStatus::Edited, true, "human", -1}},
                               QObject::tr("edit %1").arg(QFileInfo(path).fileName()));
}

void BulkEditCommand::undo() {
    apply(model_, before_);
}

void BulkEditCommand::redo() {
    if (restored_) {
        restored_ = false; // the project file already holds its effect
        return;
    }
    apply(model_, after_);
}

QJsonObject BulkEditCommand::toJson() const {
    return {{"text", text()}, {"before", changesJson(before_)}, {"after", changesJson(after_)}};
}

BulkEditCommand* BulkEditCommand::fromJson(ReviewModel* model, const QJsonObject& j) {
    if (!j["before"].isArray() || !j["after"].isArray()) return nullptr;
    auto before = changesFrom(j["before"].toArray()), after = changesFrom(j["after"].toArray());
    if (before.size() != after.size() || after.isEmpty()) return nullptr;
    return new BulkEditCommand(model, before, after, j["text"].toString());
}

} // namespace esper::ui
