// The error vocabulary (util/result.h, models/torch_guard.h): codes survive propagation, context
// keeps the code, LibTorch's exceptions become values, and a missing file reads as NotFound.
#include "models/torch_guard.h"
#include "util/file_util.h"
#include "util/result.h"

#include "test_support.h"

#include <new>
#include <stdexcept>

using namespace esper;

namespace {

Result<int> cancelledStep() {
    return cancelledError("stopped at step 3");
}

Result<int> passesOn(int& evaluations) {
    ESPER_TRY((++evaluations, cancelledStep()));
    return 1;
}

Result<void> passesOnVoid() {
    auto r = cancelledStep();
    ESPER_TRY(r);
    return {};
}

Result<int> usesValueAfterCheck() {
    Result<int> r = 41;
    ESPER_TRY(r);
    return r.value() + 1;
}

} // namespace

class TestErrors : public QObject {
    Q_OBJECT
private slots:
    void tryPassesTheErrorOnUnchangedAndEvaluatesOnce() {
        int evaluations = 0;
        auto r = passesOn(evaluations);
        QCOMPARE(evaluations, 1);
        QVERIFY(r.cancelled());
        QCOMPARE(r.error(), std::string("stopped at step 3"));
        QVERIFY(passesOnVoid().cancelled());
        auto ok = usesValueAfterCheck();
        ESPER_VERIFY_OK(ok);
        QCOMPARE(ok.value(), 42);
        QVERIFY(!ok.cancelled());
    }

    void contextKeepsTheCode() {
        const Error e = withContext(fail(ErrorCode::NotFound, "no such file"), "reading 'a.json'");
        QVERIFY(e.code == ErrorCode::NotFound);
        QCOMPARE(e.message, std::string("reading 'a.json': no such file"));
        QVERIFY(fail("x").code == ErrorCode::Failed);
    }

    void libTorchExceptionsBecomeValues() {
        auto torchError = guardTorch("captioning failed", []() -> Result<int> {
            TORCH_CHECK(false, "shapes [2] and [3] differ");
            return 0;
        });
        QVERIFY(torchError.code() == ErrorCode::Failed);
        QVERIFY(torchError.error().rfind("captioning failed: shapes [2] and [3] differ", 0) == 0);

        auto oom = guardTorch("training failed", []() -> Result<void> {
            TORCH_CHECK_WITH(OutOfMemoryError, false, "CUDA out of memory");
            return {};
        });
        QVERIFY(oom.code() == ErrorCode::OutOfMemory);
        QVERIFY(oom.error().find("out of memory") != std::string::npos);

        auto host = guardTorch("loading", []() -> Result<int> { throw std::bad_alloc(); });
        QVERIFY(host.code() == ErrorCode::OutOfMemory);

        auto other =
            guardTorch("parsing", []() -> Result<int> { throw std::runtime_error("bad token"); });
        QCOMPARE(other.error(), std::string("parsing: bad token"));

        auto fine = guardTorch("nothing", []() -> Result<int> { return 7; });
        QCOMPARE(fine.value(), 7);
    }

    void aMissingFileIsNotFound() {
        auto r = readTextFile("/nonexistent/esper/file.json");
        QVERIFY(!r.ok());
        QVERIFY(r.code() == ErrorCode::NotFound);
        QVERIFY(r.error().find("/nonexistent/esper/file.json") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestErrors)
#include "test_errors.moc"
