#include "appearance.h"

#include <QApplication>
#include <QPalette>
#include <QStyle>
#include <QStyleHints>

namespace esper::ui {

namespace {

// What the platform gave, before any change: "System" goes back to it.
const QPalette& platformPalette() {
    static const QPalette palette = QApplication::palette();
    return palette;
}

bool isDark(const QPalette& p) {
    return p.color(QPalette::Window).lightness() < 128;
}

QPalette darkPalette() {
    QPalette p;
    const QColor window(45, 47, 51), base(30, 32, 35), text(225, 227, 230), disabled(125, 128, 133),
        highlight(52, 120, 198);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, window);
    p.setColor(QPalette::ToolTipBase, base);
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::PlaceholderText, disabled);
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, window);
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, QColor(255, 120, 110));
    p.setColor(QPalette::Link, QColor(110, 170, 240));
    p.setColor(QPalette::Highlight, highlight);
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Light, window.lighter(130));
    p.setColor(QPalette::Midlight, window.lighter(115));
    p.setColor(QPalette::Mid, window.darker(120));
    p.setColor(QPalette::Dark, window.darker(150));
    p.setColor(QPalette::Shadow, Qt::black);
    for (auto role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
        p.setColor(QPalette::Disabled, role, disabled);
    return p;
}

} // namespace

namespace {
constexpr std::pair<Appearance, const char*> kAppearances[] = {
    {Appearance::System, "system"}, {Appearance::Light, "light"}, {Appearance::Dark, "dark"}};
} // namespace

QString appearanceName(Appearance a) {
    for (const auto& [appearance, name] : kAppearances)
        if (appearance == a) return name;
    return "system";
}

Appearance appearanceFromName(const QString& name) {
    for (const auto& [appearance, text] : kAppearances)
        if (name == text) return appearance;
    return Appearance::System;
}

bool systemPrefersDark() {
#if QT_VERSION >= QT_VERSION_CHECK(6, 5, 0)
    if (QGuiApplication::styleHints()->colorScheme() == Qt::ColorScheme::Dark) return true;
#endif
    // GNOME and others name a dark GTK theme variant as "Adwaita:dark".
    if (qEnvironmentVariable("GTK_THEME").endsWith(":dark", Qt::CaseInsensitive)) return true;
    return isDark(platformPalette());
}

void applyAppearance(Appearance a) {
    platformPalette(); // remembered before the first change
    const bool dark = a == Appearance::Dark || (a == Appearance::System && systemPrefersDark());
    if (dark == isDark(platformPalette())) {
        QApplication::setPalette(platformPalette());
        return;
    }
    // Fusion draws from the palette alone, so both palettes look as intended on any desktop.
    QApplication::setStyle("Fusion");
    QApplication::setPalette(dark ? darkPalette() : QApplication::style()->standardPalette());
}

bool darkPaletteInUse() {
    return isDark(QApplication::palette());
}

} // namespace esper::ui
