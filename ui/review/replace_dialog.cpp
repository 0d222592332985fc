#include "replace_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>

namespace esper::ui {

ReplaceDialog::ReplaceDialog(ReviewView* review, QWidget* parent)
    : QDialog(parent), review_(review), find_(new QLineEdit), replace_(new QLineEdit),
      regex_(new QCheckBox(tr("Regular expression (\\1, \\2 … in the replacement)"))),
      scope_(new QComboBox), preview_(new QLabel) {
    setWindowTitle(tr("Find and replace in captions"));
    scope_->addItems(
        {tr("every item"), tr("the items shown (the filter)"), tr("the selected items")});
    preview_->setWordWrap(true);
    preview_->setTextFormat(Qt::PlainText);
    auto* form = new QFormLayout(this);
    form->addRow(tr("Find"), find_);
    form->addRow(tr("Replace with"), replace_);
    form->addRow(QString(), regex_);
    form->addRow(tr("In"), scope_);
    form->addRow(preview_);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel);
    apply_ = buttons->addButton(tr("Replace"), QDialogButtonBox::AcceptRole);
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(apply_, &QPushButton::clicked, this, [this] {
        const int n = review_->replaceInCaptions(find_->text(), replace_->text(),
                                                 regex_->isChecked(), scope());
        emit review_->message(tr("Replaced in %n caption(s); Ctrl+Z undoes it", nullptr, n));
        accept();
    });
    for (auto* edit : {find_, replace_})
        connect(edit, &QLineEdit::textChanged, this, &ReplaceDialog::update);
    connect(regex_, &QCheckBox::toggled, this, &ReplaceDialog::update);
    connect(scope_, &QComboBox::currentIndexChanged, this, &ReplaceDialog::update);
    update();
}

void ReplaceDialog::setQuery(const QString& find, const QString& replace, bool regex) {
    find_->setText(find);
    replace_->setText(replace);
    regex_->setChecked(regex);
}

QString ReplaceDialog::previewText() const {
    return preview_->text();
}

ReviewView::Scope ReplaceDialog::scope() const {
    return static_cast<ReviewView::Scope>(scope_->currentIndex());
}

void ReplaceDialog::update() {
    if (regex_->isChecked() && !QRegularExpression(find_->text()).isValid()) {
        preview_->setText(tr("Not a valid regular expression: %1")
                              .arg(QRegularExpression(find_->text()).errorString()));
        apply_->setEnabled(false);
        return;
    }
    const auto changes =
        review_->previewReplace(find_->text(), replace_->text(), regex_->isChecked(), scope());
    apply_->setEnabled(!changes.isEmpty());
    if (changes.isEmpty()) {
        preview_->setText(find_->text().isEmpty() ? tr("Type what to find.")
                                                  : tr("No caption changes."));
        return;
    }
    preview_->setText(
        tr("%n caption(s) change, for example:\n%1\n→ %2", nullptr, int(changes.size()))
            .arg(changes.first().before, changes.first().after));
}

} // namespace esper::ui
