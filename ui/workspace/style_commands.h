// The workspace's style edits (add, remove, reorder, rename, prompt edits) as undoable steps on
// the studio's one undo stack. Typing in one card's prompt merges into one step.
#pragma once

#include "engine/engine_types.h"

#include <QUndoCommand>
#include <QVector>

#include <functional>

namespace esper::ui {

class StylesCommand final : public QUndoCommand {
public:
    // `apply` shows a list of styles; the change to `after` has already been made.
    StylesCommand(QVector<StyleSpec> before, QVector<StyleSpec> after,
                  std::function<void(const QVector<StyleSpec>&)> apply);
    void undo() override;
    void redo() override;
    int id() const override { return 0x5717; }
    bool mergeWith(const QUndoCommand* other) override;

private:
    QVector<StyleSpec> before_, after_;
    std::function<void(const QVector<StyleSpec>&)> apply_;
    bool done_ = true; // the first redo only records
};

bool sameStyles(const QVector<StyleSpec>& a, const QVector<StyleSpec>& b);

} // namespace esper::ui
