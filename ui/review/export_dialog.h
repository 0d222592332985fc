// The export form: the format, which items (all, or the reviewed ones), which captions (the
// active one, or every candidate) and what to do with sidecars that exist, with a count of what
// will be written. The choices are remembered between runs (choices / setChoices).
#pragma once

#include "review_io.h"

#include <QDialog>
#include <QJsonObject>

class QCheckBox;
class QComboBox;
class QLabel;
class QRadioButton;

namespace esper::ui {

class ExportDialog final : public QDialog {
    Q_OBJECT

public:
    enum class Format { SidecarTxt, SidecarCaption, Jsonl, Coco };

    explicit ExportDialog(QVector<ReviewItem> items, QWidget* parent = nullptr);
    Format format() const;
    bool writesSidecars() const;
    ExportSelection selection() const;
    SidecarPolicy sidecarPolicy() const;
    QJsonObject choices() const;
    void setChoices(const QJsonObject& choices);
    QString summaryText() const;

private:
    void update();

    QVector<ReviewItem> items_;
    QComboBox *format_, *existing_;
    QCheckBox* onlyReviewed_;
    QRadioButton *active_, *every_;
    QLabel* summary_;
};

} // namespace esper::ui
