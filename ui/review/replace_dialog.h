// Find and replace, or a prefix or suffix added, over review captions, with a live preview of how
// many change and a before/after sample; applying it is one undoable step.
#pragma once

#include "review_view.h"

#include <QDialog>

class QCheckBox;
class QComboBox;
class QFormLayout;
class QLabel;
class QLineEdit;

namespace esper::ui {

class ReplaceDialog final : public QDialog {
    Q_OBJECT

public:
    explicit ReplaceDialog(ReviewView* review, QWidget* parent = nullptr);
    enum class Mode { Replace, Prefix, Suffix };
    // Fills the form as a user would type it; the preview follows.
    void setQuery(const QString& find, const QString& replace, bool regex = false);
    void setMode(Mode mode);
    QString previewText() const;

private:
    void update();
    ReviewView::Scope scope() const;
    Mode mode() const;
    QVector<ReviewView::Replacement> planned() const;

    ReviewView* review_;
    QLineEdit *find_, *replace_;
    QCheckBox* regex_;
    QComboBox *scope_, *mode_;
    QFormLayout* form_;
    QLabel* preview_;
    QPushButton* apply_;
};

} // namespace esper::ui
