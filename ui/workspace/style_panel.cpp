#include "style_panel.h"

#include <QInputDialog>
#include <QMenu>
#include <QPushButton>
#include <QScrollArea>
#include <QVBoxLayout>

namespace esper::ui {

StylePanel::StylePanel(QWidget* parent) : QWidget(parent), list_(new QVBoxLayout) {
    auto* holder = new QWidget;
    list_->setContentsMargins(0, 0, 0, 0);
    list_->addStretch(1);
    holder->setLayout(list_);
    auto* scroll = new QScrollArea;
    scroll->setWidget(holder);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setHorizontalScrollBarPolicy(
        Qt::ScrollBarAlwaysOff); // cards wrap, never scroll sideways
    auto* add = new QPushButton(tr("Add style"));
    auto* menu = new QMenu(add);
    connect(menu, &QMenu::aboutToShow, this, [this, menu] {
        menu->clear();
        for (const auto& p : presets_)
            menu->addAction(QString("%1   (%2)").arg(p.label, p.prompt), this,
                            [this, p] { addStyle(p); });
        menu->addSeparator();
        menu->addAction(tr("Custom prompt…"), this, [this] {
            bool ok = false;
            const QString prompt = QInputDialog::getText(
                this, tr("Custom style"), tr("Prompt (e.g. \"The photo describes a\"):"),
                QLineEdit::Normal, {}, &ok);
            if (ok && !prompt.trimmed().isEmpty()) addStyle({prompt, prompt, prompt});
        });
    });
    add->setMenu(menu);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(scroll, 1);
    layout->addWidget(add);
}

void StylePanel::setStyles(const QVector<StyleSpec>& styles) {
    for (auto* c : cards_) {
        c->hide(); // deleted at the next turn of the event loop; not drawn until then
        c->deleteLater();
    }
    cards_.clear();
    for (const auto& s : styles) {
        auto* card = new StyleCard(s, this);
        cards_.push_back(card);
    }
    rebuild();
    emit stylesReplaced();
}

void StylePanel::addStyle(const StyleSpec& style) {
    cards_.push_back(new StyleCard(style, this));
    rebuild();
    emit stylesChanged();
}

QVector<StyleSpec> StylePanel::styles() const {
    QVector<StyleSpec> out;
    for (auto* c : cards_)
        out.push_back(c->style());
    return out;
}

void StylePanel::rebuild() {
    while (list_->count() > 1)
        list_->takeAt(0);
    for (int i = 0; i < cards_.size(); ++i) {
        auto* card = cards_[i];
        list_->insertWidget(i, card);
        card->disconnect(this);
        connect(card, &StyleCard::promptEdited, this, &StylePanel::stylesChanged);
        connect(card, &StyleCard::removeRequested, this, [this, card] {
            cards_.removeOne(card);
            card->deleteLater();
            rebuild();
            emit stylesChanged();
        });
        connect(card, &StyleCard::moveRequested, this, [this, card](int delta) {
            const int from = int(cards_.indexOf(card));
            const int to = std::clamp(from + delta, 0, int(cards_.size()) - 1);
            if (from == to) return;
            cards_.move(from, to);
            rebuild();
            emit stylesChanged();
        });
        connect(card, &StyleCard::resampleRequested, this,
                [this, card] { emit resampleRequested(int(cards_.indexOf(card))); });
        connect(card, &StyleCard::acceptRequested, this,
                [this, card] { emit acceptRequested(int(cards_.indexOf(card))); });
    }
}

} // namespace esper::ui
