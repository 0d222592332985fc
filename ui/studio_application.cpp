#include "studio_application.h"

#include <exception>

namespace esper::ui {

bool deliverGuarded(const std::function<bool()>& deliver,
                    const std::function<void(const QString&)>& onError) {
    try {
        return deliver();
    } catch (const std::exception& e) {
        onError(QString::fromLocal8Bit(e.what()).left(400));
    } catch (...) {
        onError(QObject::tr("an unknown error"));
    }
    return false;
}

bool StudioApplication::notify(QObject* receiver, QEvent* event) {
    return deliverGuarded([&] { return QApplication::notify(receiver, event); },
                          [this](const QString& what) {
                              if (onInternalError) onInternalError(what);
                          });
}

} // namespace esper::ui
