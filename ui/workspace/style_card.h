// One active style: its name and prompt (editable in place), the caption as it streams in, its
// CLIP-S as a number and a bar, and copy / re-sample / accept.
#pragma once

#include "engine/engine_types.h"

#include <QFrame>

class QLabel;
class QLineEdit;
class QProgressBar;
class QToolButton;

namespace esper::ui {

class StyleCard final : public QFrame {
    Q_OBJECT

public:
    explicit StyleCard(const StyleSpec& style, QWidget* parent = nullptr);
    StyleSpec style() const;
    void setWaiting();
    void setStreaming(const QString& text);
    // `fromSound`: the score is audio CLIP-S (the sound against the caption) and says so.
    void setResult(const StyleCaption& caption, bool fromSound = false);
    QString scoreLabel() const; // "CLIP-S 0.812" or "audio CLIP-S 0.812"
    void setError(const QString& message);
    QString captionText() const;
    double clipScore() const { return score_; }
    QLineEdit* promptEdit() const { return prompt_; }

signals:
    void promptEdited();
    void removeRequested();
    void moveRequested(int delta);
    void resampleRequested();
    void acceptRequested();

private:
    QString id_;
    QLineEdit* name_;
    QLineEdit* prompt_;
    QLabel* caption_;
    QLabel* scoreText_;
    QProgressBar* scoreBar_;
    double score_ = 0;
};

} // namespace esper::ui
