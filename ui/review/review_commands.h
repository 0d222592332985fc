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
    QString beforeText_, afterText_;
    ReviewStatus beforeStatus_;
};

} // namespace esper::ui
