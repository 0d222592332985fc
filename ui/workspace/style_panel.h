// The active styles as a column of cards, with presets (from the engine's resources) and custom
// prompts to add, and remove / reorder / rename / edit in place.
#pragma once

#include "style_card.h"

#include <QVector>
#include <QWidget>

class QVBoxLayout;

namespace esper::ui {

class StylePanel final : public QWidget {
    Q_OBJECT

public:
    explicit StylePanel(QWidget* parent = nullptr);
    void setStyles(const QVector<StyleSpec>& styles);
    QVector<StyleSpec> styles() const;
    StyleCard* card(int i) const { return cards_.value(i); }
    int count() const { return int(cards_.size()); }
    void setPresets(const QVector<StyleSpec>& presets) { presets_ = presets; }
    void addStyle(const StyleSpec& style);

signals:
    void stylesChanged();  // added, removed, moved or a prompt edited
    void stylesReplaced(); // setStyles: a whole new list (settings, a bundle, an undo)
    void resampleRequested(int card);
    void acceptRequested(int card);

private:
    void rebuild();
    QVector<StyleCard*> cards_;
    QVector<StyleSpec> presets_;
    QVBoxLayout* list_;
};

} // namespace esper::ui
