// Compare: one image captioned by several bundles side by side, in each style, with CLIP-S: a
// grid of styles (rows) by bundles (columns). After a fine-tune it shows what changed; in review
// a click on a cell makes that caption the item's own. Each bundle runs in its own
// `esper caption` process: the loaded model stays as it is and the UI thread never waits.
#pragma once

#include <QDialog>

class QLabel;
class QTableWidget;

namespace esper::ui {

class CompareView final : public QDialog {
    Q_OBJECT

signals:
    void finishedAll();
    // A caption the user picked (double-click or Enter on a cell).
    void chosen(const QString& image, const QString& bundle, const QString& style,
                const QString& caption, double clipS);

public:
    // Starts every bundle's captioning at once; `finishedAll` says when all have answered.
    CompareView(const QStringList& bundles, const QString& image, const QStringList& styles,
                QWidget* parent = nullptr);
    QTableWidget* table() const { return table_; }

private:
    void caption(int column, const QString& bundle);

    QTableWidget* table_;
    QLabel* status_;
    QString image_;
    QStringList bundles_, styles_;
    int pending_ = 0;
};

} // namespace esper::ui
