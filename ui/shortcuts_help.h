// The keyboard help (?, F1): every menu action that has a shortcut, read from the menus
// themselves so the list cannot drift from the app, and the review table's single keys.
#pragma once

#include <QDialog>

class QMenuBar;
class QTableWidget;

namespace esper::ui {

class ShortcutsHelp final : public QDialog {
    Q_OBJECT

public:
    ShortcutsHelp(const QMenuBar* menus, QWidget* parent = nullptr);
    int rows() const;

private:
    QTableWidget* table_;
};

} // namespace esper::ui
