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
    void setResult(const StyleCaption& caption);
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
