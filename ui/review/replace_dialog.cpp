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
      scope_(new QComboBox), mode_(new QComboBox), preview_(new QLabel) {
    setWindowTitle(tr("Edit captions in bulk"));
    mode_->addItems({tr("Find and replace"), tr("Add a prefix"), tr("Add a suffix")});
    scope_->addItems(
        {tr("every item"), tr("the items shown (the filter)"), tr("the selected items")});
    preview_->setWordWrap(true);
    preview_->setTextFormat(Qt::PlainText);
    auto* form = new QFormLayout(this);
    form_ = form;
    form->addRow(tr("Do"), mode_);
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
        const int n = mode() == Mode::Replace
                          ? review_->replaceInCaptions(find_->text(), replace_->text(),
                                                       regex_->isChecked(), scope())
                          : review_->addAffix(find_->text(),
                                              mode() == Mode::Prefix ? ReviewView::Affix::Prefix
                                                                     : ReviewView::Affix::Suffix,
                                              scope());
        emit review_->message(tr("Changed %n caption(s); Ctrl+Z undoes it", nullptr, n));
        accept();
    });
    connect(mode_, &QComboBox::currentIndexChanged, this, [this] {
        const bool replacing = mode() == Mode::Replace;
        form_->setRowVisible(replace_, replacing);
        form_->setRowVisible(regex_, replacing);
        if (auto* label = qobject_cast<QLabel*>(form_->labelForField(find_)))
            label->setText(replacing ? tr("Find") : tr("Text"));
        apply_->setText(replacing ? tr("Replace") : tr("Add"));
        update();
    });
    for (auto* edit : {find_, replace_})
        connect(edit, &QLineEdit::textChanged, this, &ReplaceDialog::update);
    connect(regex_, &QCheckBox::toggled, this, &ReplaceDialog::update);
    connect(scope_, &QComboBox::currentIndexChanged, this, &ReplaceDialog::update);
    update();
}

void ReplaceDialog::setMode(Mode mode) {
    mode_->setCurrentIndex(int(mode));
}

ReplaceDialog::Mode ReplaceDialog::mode() const {
    return Mode(mode_->currentIndex());
}

QVector<ReviewView::Replacement> ReplaceDialog::planned() const {
    if (mode() == Mode::Replace)
        return review_->previewReplace(find_->text(), replace_->text(), regex_->isChecked(),
                                       scope());
    return review_->previewAffix(
        find_->text(),
        mode() == Mode::Prefix ? ReviewView::Affix::Prefix : ReviewView::Affix::Suffix, scope());
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
    if (mode() == Mode::Replace && regex_->isChecked() &&
        !QRegularExpression(find_->text()).isValid()) {
        preview_->setText(tr("Not a valid regular expression: %1")
                              .arg(QRegularExpression(find_->text()).errorString()));
        apply_->setEnabled(false);
        return;
    }
    const auto changes = planned();
    apply_->setEnabled(!changes.isEmpty());
    if (changes.isEmpty()) {
        preview_->setText(
            find_->text().isEmpty()
                ? (mode() == Mode::Replace ? tr("Type what to find.") : tr("Type the text to add."))
                : tr("No caption changes."));
        return;
    }
    preview_->setText(
        tr("%n caption(s) change, for example:\n%1\n→ %2", nullptr, int(changes.size()))
            .arg(changes.first().before, changes.first().after));
}

} // namespace esper::ui
