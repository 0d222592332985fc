#include "review_commands.h"

#include <QFileInfo>

namespace esper::ui {

SetStatusCommand::SetStatusCommand(ReviewModel* model, int row, ReviewStatus status)
    : model_(model), path_(model->item(row).imagePath), before_(model->item(row).status),
      after_(status) {
    setText(QObject::tr("%1 %2").arg(statusName(status), QFileInfo(path_).fileName()));
}

void SetStatusCommand::undo() {
    model_->setStatus(model_->rowOf(path_), before_);
}
void SetStatusCommand::redo() {
    model_->setStatus(model_->rowOf(path_), after_);
}

EditCaptionCommand::EditCaptionCommand(ReviewModel* model, int row, const QString& caption)
    : model_(model), path_(model->item(row).imagePath), beforeText_(model->item(row).caption),
      afterText_(caption), beforeSource_(model->item(row).source),
      beforeStatus_(model->item(row).status) {
    setText(QObject::tr("edit %1").arg(QFileInfo(path_).fileName()));
}

void EditCaptionCommand::undo() {
    const int row = model_->rowOf(path_);
    model_->setCaption(row, beforeText_, beforeSource_);
    model_->setStatus(row, beforeStatus_);
}

void EditCaptionCommand::redo() {
    const int row = model_->rowOf(path_);
    model_->setCaption(row, afterText_);
    model_->setStatus(row, ReviewStatus::Edited);
}

BulkEditCommand::BulkEditCommand(ReviewModel* model, QVector<Change> changes, const QString& label)
    : model_(model), after_(std::move(changes)) {
    for (const auto& c : after_) {
        const ReviewItem& it = model->item(model->rowOf(c.path));
        before_.push_back({c.path, it.caption, it.status, c.setsCaption, it.source,
                           c.clipS > -2 ? it.clipS : -2});
    }
    setText(label);
}

namespace {
void apply(ReviewModel* model, const QVector<BulkEditCommand::Change>& changes) {
    for (const auto& c : changes) {
        const int row = model->rowOf(c.path);
        if (row < 0) continue;
        if (c.setsCaption) model->setCaption(row, c.caption, c.source);
        if (c.clipS > -2) model->setScores(row, c.clipS, -1);
        model->setStatus(row, c.status);
    }
}
} // namespace

void BulkEditCommand::undo() {
    apply(model_, before_);
}
void BulkEditCommand::redo() {
    apply(model_, after_);
}

} // namespace esper::ui
