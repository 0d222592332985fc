#include "style_commands.h"

namespace esper::ui {

namespace {
// The same cards in the same order, whatever their text says.
bool sameCards(const QVector<StyleSpec>& a, const QVector<StyleSpec>& b) {
    if (a.size() != b.size()) return false;
    for (int i = 0; i < a.size(); ++i)
        if (a[i].id != b[i].id) return false;
    return true;
}
} // namespace

bool sameStyles(const QVector<StyleSpec>& a, const QVector<StyleSpec>& b) {
    if (!sameCards(a, b)) return false;
    for (int i = 0; i < a.size(); ++i)
        if (a[i].label != b[i].label || a[i].prompt != b[i].prompt) return false;
    return true;
}

StylesCommand::StylesCommand(QVector<StyleSpec> before, QVector<StyleSpec> after,
                             std::function<void(const QVector<StyleSpec>&)> apply)
    : before_(std::move(before)), after_(std::move(after)), apply_(std::move(apply)) {
    setText(sameCards(before_, after_) ? QObject::tr("edit a style")
                                       : QObject::tr("change the styles"));
}

void StylesCommand::undo() {
    apply_(before_);
}

void StylesCommand::redo() {
    if (done_) {
        done_ = false;
        return;
    }
    apply_(after_);
}

bool StylesCommand::mergeWith(const QUndoCommand* other) {
    const auto* next = static_cast<const StylesCommand*>(other);
    // Keystrokes in a prompt: the same cards before and after both steps.
    if (!sameCards(before_, after_) || !sameCards(next->before_, next->after_) ||
        !sameCards(after_, next->before_))
        return false;
    after_ = next->after_;
    return true;
}

} // namespace esper::ui
