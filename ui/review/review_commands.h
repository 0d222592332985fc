// Review edits as undoable commands (one QUndoStack serves every edit of a project). Every
// edit, from one status to a find and replace over a dataset, is a list of item changes with
// what each item was before, so it can be saved in the project file and undone after reopening.
#pragma once

#include "review_model.h"

#include <QJsonObject>
#include <QUndoCommand>

namespace esper::ui {

class BulkEditCommand final : public QUndoCommand {
public:
    // A Change's clipS that leaves the item's score as it is.
    static constexpr double kKeepClipS = -2;
    struct Change {
        QString path;
        QString caption;     // the new caption (kept when `setsCaption` is false)
        ReviewStatus status; // the new status
        bool setsCaption = true;
        QString source = "human";  // who wrote `caption`
        double clipS = kKeepClipS; // the caption's CLIP-S when known (-1: unknown)
        bool setsClipS() const { return clipS > kKeepClipS; }
    };
    BulkEditCommand(ReviewModel* model, QVector<Change> changes, const QString& label);
    void undo() override;
    void redo() override;
    int size() const { return int(after_.size()); }

    // One status change, and one caption edited by a person.
    static BulkEditCommand* setStatus(ReviewModel* model, int row, ReviewStatus status);
    static BulkEditCommand* editCaption(ReviewModel* model, int row, const QString& caption);

    // The step as JSON for the project file, and back (already applied: the first redo only
    // records). Null when the JSON is not such a step.
    QJsonObject toJson() const;
    static BulkEditCommand* fromJson(ReviewModel* model, const QJsonObject& j);

private:
    BulkEditCommand(ReviewModel* model, QVector<Change> before, QVector<Change> after,
                    const QString& label);
    ReviewModel* model_;
    QVector<Change> before_, after_;
    bool restored_ = false;
};

} // namespace esper::ui
