#include "export_dialog.h"

#include <QButtonGroup>
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QRadioButton>
#include <QVBoxLayout>

namespace esper::ui {

ExportDialog::ExportDialog(QVector<ReviewItem> items, QWidget* parent)
    : QDialog(parent), items_(std::move(items)), format_(new QComboBox), existing_(new QComboBox),
      onlyReviewed_(new QCheckBox(tr("Only accepted and edited items"))),
      active_(new QRadioButton(tr("The active caption"))),
      every_(new QRadioButton(tr("Every candidate, the active one first"))), summary_(new QLabel) {
    setWindowTitle(tr("Export the review"));
    format_->addItems({tr("Sidecar .txt files beside the images"),
                       tr("Sidecar .caption files beside the images"), tr("JSONL"),
                       tr("COCO captions JSON")});
    existing_->addItems(
        {tr("Skip the image"), tr("Overwrite it"), tr("Append to it"), tr("Prepend to it")});
    onlyReviewed_->setChecked(true);
    active_->setChecked(true);
    every_->setToolTip(tr("Sidecars get one caption per line; JSONL and COCO one reference or "
                          "annotation per caption"));
    auto* captions = new QVBoxLayout;
    captions->addWidget(active_);
    captions->addWidget(every_);
    auto* group = new QButtonGroup(this);
    group->addButton(active_);
    group->addButton(every_);
    summary_->setTextFormat(Qt::PlainText);
    auto* form = new QFormLayout(this);
    form->addRow(tr("Format"), format_);
    form->addRow(tr("Items"), onlyReviewed_);
    form->addRow(tr("Captions"), captions);
    form->addRow(tr("When a sidecar exists"), existing_);
    form->addRow(summary_);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel);
    buttons->addButton(tr("Export…"), QDialogButtonBox::AcceptRole);
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(format_, &QComboBox::currentIndexChanged, this, &ExportDialog::update);
    connect(onlyReviewed_, &QCheckBox::toggled, this, &ExportDialog::update);
    connect(every_, &QRadioButton::toggled, this, &ExportDialog::update);
    update();
}

ExportDialog::Format ExportDialog::format() const {
    return Format(format_->currentIndex());
}

bool ExportDialog::writesSidecars() const {
    return format() == Format::SidecarTxt || format() == Format::SidecarCaption;
}

ExportSelection ExportDialog::selection() const {
    return {onlyReviewed_->isChecked(), every_->isChecked()};
}

SidecarPolicy ExportDialog::sidecarPolicy() const {
    return SidecarPolicy(existing_->currentIndex());
}

QJsonObject ExportDialog::choices() const {
    return {{"format", format_->currentIndex()},
            {"only_reviewed", onlyReviewed_->isChecked()},
            {"all_candidates", every_->isChecked()},
            {"existing_sidecars", existing_->currentIndex()}};
}

void ExportDialog::setChoices(const QJsonObject& c) {
    auto index = [](const QJsonValue& v, QComboBox* box) {
        const int i = v.toInt(0);
        return i >= 0 && i < box->count() ? i : 0;
    };
    format_->setCurrentIndex(index(c["format"], format_));
    existing_->setCurrentIndex(index(c["existing_sidecars"], existing_));
    onlyReviewed_->setChecked(c["only_reviewed"].toBool(true));
    (c["all_candidates"].toBool(false) ? every_ : active_)->setChecked(true);
    update();
}

QString ExportDialog::summaryText() const {
    return summary_->text();
}

void ExportDialog::update() {
    existing_->setEnabled(writesSidecars());
    const ExportSelection which = selection();
    qsizetype itemsOut = 0, captionsOut = 0;
    for (const auto& it : items_) {
        if (!it.error.isEmpty()) continue;
        if (which.onlyReviewed && it.status != ReviewStatus::Accepted &&
            it.status != ReviewStatus::Edited)
            continue;
        ++itemsOut;
        captionsOut += which.allCandidates ? it.allCaptions().size() : 1;
    }
    const QLocale locale;
    if (itemsOut == 0)
        summary_->setText(which.onlyReviewed
                              ? tr("Nothing to export: no item is accepted or edited yet.")
                              : tr("Nothing to export: the review is empty."));
    else
        summary_->setText(tr("%1 item(s), %2 caption(s) will be written.")
                              .arg(locale.toString(itemsOut))
                              .arg(locale.toString(captionsOut)));
    if (auto* box = findChild<QDialogButtonBox*>())
        for (auto* b : box->buttons())
            if (box->buttonRole(b) == QDialogButtonBox::AcceptRole) b->setEnabled(itemsOut > 0);
}

} // namespace esper::ui
