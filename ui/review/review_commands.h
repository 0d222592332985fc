// Review edits as undoable commands (one QUndoStack serves every edit of a project).
#pragma once

#include "review_model.h"

#include <QUndoCommand>

namespace esper::ui {

class SetStatusCommand final : public QUndoCommand {
public:
    SetStatusCommand(ReviewModel* model, int row, ReviewStatus status);
    void undo() override;
    void redo() override;

private:
    ReviewModel* model_;
    QString path_; // rows can move when items are added; the image identifies the item
    ReviewStatus before_, after_;
};

class EditCaptionCommand final : public QUndoCommand {
public:
    EditCaptionCommand(ReviewModel* model, int row, const QString& caption);
    void undo() override;
    void redo() override;

private:
    ReviewModel* model_;
    QString path_;
    QString beforeText_, afterText_, beforeSource_;
    ReviewStatus beforeStatus_;
};

// Many items changed as one step (find and replace, accept or reject a selection): one undo
// restores them all.
class BulkEditCommand final : public QUndoCommand {
public:
    struct Change {
        QString path;
        QString caption;     // the new caption (kept when `setsCaption` is false)
        ReviewStatus status; // the new status
        bool setsCaption = true;
        QString source = "human"; // who wrote `caption`
        double clipS = -2;        // the caption's CLIP-S when known (-1: unknown; -2: keep)
    };
    BulkEditCommand(ReviewModel* model, QVector<Change> changes, const QString& label);
    void undo() override;
    void redo() override;
    int size() const { return int(after_.size()); }

private:
    ReviewModel* model_;
    QVector<Change> before_, after_;
};

} // namespace esper::ui
