#include "shortcuts_help.h"

#include <QAction>
#include <QDialogButtonBox>
#include <QHeaderView>
#include <QMenu>
#include <QMenuBar>
#include <QTableWidget>
#include <QVBoxLayout>

namespace esper::ui {

namespace {
// The menu's actions with a shortcut, submenus included, as (where, what, keys).
void collect(const QMenu* menu, const QString& where, QList<QStringList>& out) {
    for (QAction* a : menu->actions()) {
        if (a->menu()) {
            collect(a->menu(), where + " › " + a->menu()->title().remove('&'), out);
            continue;
        }
        if (a->shortcuts().isEmpty()) continue;
        QStringList keys;
        for (const auto& k : a->shortcuts())
            keys << k.toString(QKeySequence::NativeText);
        out.append({where, a->text().remove('&'), keys.join(", ")});
    }
}
} // namespace

ShortcutsHelp::ShortcutsHelp(const QMenuBar* menus, QWidget* parent)
    : QDialog(parent), table_(new QTableWidget(0, 3)) {
    setWindowTitle(tr("Keyboard shortcuts"));
    QList<QStringList> rows;
    for (QAction* a : menus->actions())
        if (a->menu()) collect(a->menu(), a->menu()->title().remove('&'), rows);
    const QString review = tr("Review table");
    rows.append({review, tr("Accept"), "A"});
    rows.append({review, tr("Reject"), "R"});
    rows.append({review, tr("Edit the caption"), "E, Enter"});
    rows.append({review, tr("Next caption that needs review"), "N"});
    rows.append({review, tr("Select several"), "Shift+arrows, Ctrl+click"});
    rows.append({tr("Sound preview"), tr("Play / pause"), "Space"});
    rows.append({tr("Help"), tr("This list"), "?, F1"});
    table_->setHorizontalHeaderLabels({tr("where"), tr("action"), tr("keys")});
    table_->setRowCount(int(rows.size()));
    for (int r = 0; r < rows.size(); ++r)
        for (int c = 0; c < 3; ++c)
            table_->setItem(r, c, new QTableWidgetItem(rows[r][c]));
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->verticalHeader()->hide();
    table_->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
    table_->resizeColumnsToContents();
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(table_);
    layout->addWidget(buttons);
    resize(620, 560);
}

int ShortcutsHelp::rows() const {
    return table_->rowCount();
}

} // namespace esper::ui
