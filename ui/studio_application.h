// The studio's QApplication with a last resort: an exception that escapes an event handler
// (Qt cannot carry it further) is caught where events are delivered, and handed to
// `onInternalError` once, which saves the user's work and says what happened, instead of the
// process aborting with unsaved review edits.
#pragma once

#include <QApplication>
#include <functional>

namespace esper::ui {

// Runs `deliver`; an exception from it goes to `onError` with its message, and false is
// returned as for an event nobody handled.
bool deliverGuarded(const std::function<bool()>& deliver,
                    const std::function<void(const QString&)>& onError);

class StudioApplication final : public QApplication {
public:
    StudioApplication(int& argc, char** argv) : QApplication(argc, argv) {}
    std::function<void(const QString& what)> onInternalError;
    bool notify(QObject* receiver, QEvent* event) override;
};

} // namespace esper::ui
