#include "style_card.h"

#include <QApplication>
#include <QClipboard>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QToolButton>
#include <QVBoxLayout>

namespace esper::ui {

namespace {
QToolButton* button(const QString& text, const QString& tip, QWidget* parent) {
    auto* b = new QToolButton(parent);
    b->setText(text);
    b->setToolTip(tip);
    b->setAutoRaise(true);
    return b;
}
} // namespace

StyleCard::StyleCard(const StyleSpec& style, QWidget* parent)
    : QFrame(parent), id_(style.id),
      name_(new QLineEdit(style.label.isEmpty() ? style.id : style.label)),
      prompt_(new QLineEdit(style.prompt)), caption_(new QLabel), scoreText_(new QLabel),
      scoreBar_(new QProgressBar) {
    setFrameShape(QFrame::StyledPanel);
    setObjectName("StyleCard");
    name_->setFrame(false);
    QFont bold = name_->font();
    bold.setBold(true);
    name_->setFont(bold);
    name_->setToolTip(tr("Rename this style"));
    prompt_->setPlaceholderText(tr("Prompt, e.g. caption:"));
    prompt_->setToolTip(tr("The text the language model continues after the image's prefix"));
    caption_->setWordWrap(true);
    caption_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    caption_->setMinimumHeight(40);
    caption_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred); // wrap to the card
    scoreBar_->setRange(0, 250); // CLIP-S runs from 0 to 2.5
    scoreBar_->setTextVisible(false);
    scoreBar_->setMaximumHeight(6);
    scoreText_->setMinimumWidth(90);

    auto* up = button("▲", tr("Move up"), this);
    auto* down = button("▼", tr("Move down"), this);
    auto* remove = button("✕", tr("Remove this style"), this);
    auto* copy = button(tr("Copy"), tr("Copy the caption"), this);
    auto* resample = button(tr("Re-sample"), tr("Sample this style again with a new seed"), this);
    auto* accept = button(tr("Accept"), tr("Keep this caption for the image (review mode)"), this);

    auto* header = new QHBoxLayout;
    header->addWidget(name_, 1);
    header->addWidget(up);
    header->addWidget(down);
    header->addWidget(remove);
    auto* footer = new QHBoxLayout;
    footer->addWidget(scoreText_);
    footer->addWidget(scoreBar_, 1);
    footer->addWidget(copy);
    footer->addWidget(resample);
    footer->addWidget(accept);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 6, 8, 6);
    layout->addLayout(header);
    layout->addWidget(prompt_);
    layout->addWidget(caption_);
    layout->addLayout(footer);

    connect(prompt_, &QLineEdit::textEdited, this, &StyleCard::promptEdited);
    connect(remove, &QToolButton::clicked, this, &StyleCard::removeRequested);
    connect(up, &QToolButton::clicked, this, [this] { emit moveRequested(-1); });
    connect(down, &QToolButton::clicked, this, [this] { emit moveRequested(+1); });
    connect(resample, &QToolButton::clicked, this, &StyleCard::resampleRequested);
    connect(accept, &QToolButton::clicked, this, &StyleCard::acceptRequested);
    connect(copy, &QToolButton::clicked, this,
            [this] { QApplication::clipboard()->setText(captionText()); });
    caption_->setText(tr("<i>No caption yet</i>"));
    scoreText_->setText(tr("CLIP-S —"));
}

StyleSpec StyleCard::style() const {
    return {id_, name_->text(), prompt_->text()};
}

void StyleCard::setWaiting() {
    caption_->setText(tr("<i>…</i>"));
    scoreText_->setText(tr("CLIP-S —"));
    scoreBar_->setValue(0);
}

void StyleCard::setStreaming(const QString& text) {
    caption_->setText(text.toHtmlEscaped() + " ▍");
}

void StyleCard::setResult(const StyleCaption& c, bool fromSound) {
    caption_->setText(c.text.isEmpty() ? tr("<i>(empty)</i>") : c.text.toHtmlEscaped());
    caption_->setProperty("plainText", c.text);
    score_ = c.clipS;
    scoreText_->setText(
        (fromSound ? tr("audio CLIP-S %1") : tr("CLIP-S %1")).arg(c.clipS, 0, 'f', 3));
    scoreText_->setToolTip(fromSound ? tr("2.5 · max(cos, 0) between the sound's embedding "
                                          "(the bundle's audio encoder) and the caption's CLIP "
                                          "text embedding")
                                     : tr("2.5 · max(cos, 0) between the image's and the "
                                          "caption's CLIP embeddings"));
    scoreBar_->setValue(int(c.clipS * 100));
}

QString StyleCard::scoreLabel() const {
    return scoreText_->text();
}

void StyleCard::setError(const QString& message) {
    caption_->setText("<span style='color:#c0392b'>" + message.toHtmlEscaped() + "</span>");
    caption_->setProperty("plainText", QString());
}

QString StyleCard::captionText() const {
    return caption_->property("plainText").toString();
}

} // namespace esper::ui
