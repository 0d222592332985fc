#include "decoding_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QSpinBox>
#include <QVBoxLayout>

namespace esper::ui {

DecodingPanel::DecodingPanel(QWidget* parent)
    : QGroupBox(tr("Decoding settings"), parent), strategy_(new QComboBox),
      maxTokens_(new QSpinBox), topK_(new QSpinBox), noRepeat_(new QSpinBox), bestOf_(new QSpinBox),
      temperature_(new QDoubleSpinBox), topP_(new QDoubleSpinBox), cut_(new QCheckBox),
      body_(new QWidget) {
    setCheckable(true); // the check box folds the panel
    setChecked(false);
    strategy_->addItems({tr("Greedy (ESPER default)"), tr("Sampling")});
    maxTokens_->setRange(1, 200);
    topK_->setRange(0, 1000);
    topK_->setSpecialValueText(tr("off"));
    noRepeat_->setRange(0, 10);
    noRepeat_->setSpecialValueText(tr("off"));
    bestOf_->setRange(1, 16);
    temperature_->setRange(0.05, 5.0);
    temperature_->setSingleStep(0.05);
    topP_->setRange(0.05, 1.0);
    topP_->setSingleStep(0.05);
    cut_->setText(tr("Cut at the first period"));
    auto* form = new QFormLayout(body_);
    form->addRow(tr("Strategy"), strategy_);
    form->addRow(tr("Max tokens"), maxTokens_);
    form->addRow(tr("Temperature"), temperature_);
    form->addRow(tr("Top-k"), topK_);
    form->addRow(tr("Top-p"), topP_);
    form->addRow(tr("No-repeat n-gram"), noRepeat_);
    form->addRow(tr("Best of N (by CLIP-S)"), bestOf_);
    form->addRow(cut_);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(body_);
    body_->setVisible(false);
    connect(this, &QGroupBox::toggled, body_, &QWidget::setVisible);
    setSettings({});
    for (auto* s : {maxTokens_, topK_, noRepeat_, bestOf_})
        connect(s, &QSpinBox::valueChanged, this, &DecodingPanel::changed);
    for (auto* s : {temperature_, topP_})
        connect(s, &QDoubleSpinBox::valueChanged, this, &DecodingPanel::changed);
    connect(cut_, &QCheckBox::toggled, this, &DecodingPanel::changed);
    connect(strategy_, &QComboBox::currentIndexChanged, this, [this] {
        updateEnabled();
        emit changed();
    });
}

DecodingSettings DecodingPanel::settings() const {
    DecodingSettings s;
    s.sample = strategy_->currentIndex() == 1;
    s.maxTokens = maxTokens_->value();
    s.temperature = temperature_->value();
    s.topK = topK_->value();
    s.topP = topP_->value();
    s.noRepeat = noRepeat_->value();
    s.bestOf = bestOf_->value();
    s.cutAtPeriod = cut_->isChecked();
    return s;
}

void DecodingPanel::setSettings(const DecodingSettings& s) {
    const QSignalBlocker block(this);
    for (QObject* w : std::initializer_list<QObject*>{strategy_, maxTokens_, topK_, noRepeat_,
                                                      bestOf_, temperature_, topP_, cut_})
        w->blockSignals(true);
    strategy_->setCurrentIndex(s.sample ? 1 : 0);
    maxTokens_->setValue(s.maxTokens);
    temperature_->setValue(s.temperature);
    topK_->setValue(s.topK);
    topP_->setValue(s.topP);
    noRepeat_->setValue(s.noRepeat);
    bestOf_->setValue(s.bestOf);
    cut_->setChecked(s.cutAtPeriod);
    for (QObject* w : std::initializer_list<QObject*>{strategy_, maxTokens_, topK_, noRepeat_,
                                                      bestOf_, temperature_, topP_, cut_})
        w->blockSignals(false);
    updateEnabled();
}

void DecodingPanel::updateEnabled() {
    const bool sample = strategy_->currentIndex() == 1;
    for (QWidget* w : std::initializer_list<QWidget*>{temperature_, topK_, topP_, bestOf_})
        w->setEnabled(sample);
}

} // namespace esper::ui
