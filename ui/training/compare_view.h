// Compare: the same image captioned by two bundles side by side, in each style, with CLIP-S,
// so a user sees what a fine-tune changed before switching to it. Each bundle runs in its own
// `esper caption` process: the loaded model stays as it is and the UI thread never waits.
#pragma once

#include <QDialog>

class QLabel;
class QTableWidget;

namespace esper::ui {

class CompareView final : public QDialog {
    Q_OBJECT

public:
    CompareView(const QString& oldBundle, const QString& newBundle, const QString& image,
                const QStringList& styles, QWidget* parent = nullptr);
    QTableWidget* table() const { return table_; }
    bool done() const { return pending_ == 0; }

signals:
    void finishedBoth();

private:
    void caption(int column, const QString& bundle, const QString& image,
                 const QStringList& styles);

    QTableWidget* table_;
    QLabel* status_;
    QStringList styles_;
    int pending_ = 2;
};

} // namespace esper::ui
