// Light or dark: the studio follows the desktop's choice unless the user picks one (View →
// Appearance). Qt 6.4 on Linux often reports no preference, so the desktop's choice is read
// where it can be (Qt's colour scheme from 6.5, GTK_THEME's ":dark" variant, a dark platform
// palette).
#pragma once

#include <QString>

namespace esper::ui {

enum class Appearance { System, Light, Dark };
QString appearanceName(Appearance a); // "system", "light", "dark" (as settings store it)
Appearance appearanceFromName(const QString& name);
bool systemPrefersDark();
// Sets the application's palette (Fusion's light or dark one, or the platform's own).
void applyAppearance(Appearance a);
bool darkPaletteInUse();

} // namespace esper::ui
