// Where test data lives, and the rule for data from ../shared: skip with a message outside CI,
// fail under CI (CI=true), so a CI run can never pass by skipping.
#pragma once

#include <QFileInfo>
#include <QString>
#include <QtTest>

namespace esper::test {

inline QString dataDir() {
    return QStringLiteral(ESPER_TEST_DATA_DIR);
}
inline QString referenceDir() {
    return dataDir() + QStringLiteral("/reference");
}
inline QString sharedReferenceDir() {
    return QStringLiteral(ESPER_SHARED_REFERENCE_DIR);
}
inline bool underCi() {
    return qEnvironmentVariable("CI") == QLatin1String("true");
}

} // namespace esper::test

#define ESPER_REQUIRE_SHARED(path)                                                                 \
    do {                                                                                           \
        const QString esperPath_ = (path);                                                         \
        if (!QFileInfo::exists(esperPath_)) {                                                      \
            if (esper::test::underCi())                                                            \
                QFAIL(qPrintable("SHARED-DATA-MISSING under CI: " + esperPath_));                  \
            QSKIP(qPrintable("needs " + esperPath_ + " from ../shared (SHARED-DATA-MISSING)"));    \
        }                                                                                          \
    } while (0)

// Passes when a Result holds a value; otherwise fails the test with the Result's own message.
// Sanitizer builds cannot load sentencepiece: its wrapper is loaded with RTLD_DEEPBIND, which
// AddressSanitizer refuses (docs/trust.md). Tests that need it skip there, and say so.
#if defined(__SANITIZE_ADDRESS__)
#define ESPER_REQUIRE_SENTENCEPIECE()                                                              \
    QSKIP("sentencepiece is not available in sanitizer builds (its loader needs RTLD_DEEPBIND)")
#else
#define ESPER_REQUIRE_SENTENCEPIECE()                                                              \
    do {                                                                                           \
    } while (0)
#endif

#define ESPER_VERIFY_OK(result)                                                                    \
    do {                                                                                           \
        const auto& esperResult_ = (result);                                                       \
        QVERIFY2(esperResult_.ok(), esperResult_.ok() ? "" : esperResult_.error().c_str());        \
    } while (0)

// Passes when a Result failed with a message that contains each of the given texts (the file's
// name and what is wrong with it, say); otherwise fails showing the message it got.
#define ESPER_VERIFY_FAILS_WITH(result, ...)                                                       \
    do {                                                                                           \
        const auto& esperFailed_ = (result);                                                       \
        QVERIFY2(!esperFailed_.ok(), "expected a failure");                                        \
        const QString esperMessage_ = QString::fromStdString(esperFailed_.error());                \
        for (const QString& esperText_ : QStringList{__VA_ARGS__})                                 \
            QVERIFY2(esperMessage_.contains(esperText_), qPrintable("got: " + esperMessage_));     \
    } while (0)
