// Every test program sets the process-wide runtime as the executables do, once, when Qt's
// application object is made (QTEST_MAIN makes it before the first test).
#include "models/runtime.h"

#include <QCoreApplication>

namespace {

void configureTestRuntime() {
    esper::configureRuntime();
}

} // namespace

Q_COREAPP_STARTUP_FUNCTION(configureTestRuntime)
