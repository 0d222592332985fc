#include "training/framework/helper_thread.h"

namespace esper {

bool helperCoreAvailable() {
    return std::thread::hardware_concurrency() > 1;
}

HelperThread::~HelperThread() {
    if (!thread_.joinable()) return;
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

void HelperThread::serve() {
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [&] { return stopping_ || job_; });
        if (stopping_) return;
        lock.unlock();
        std::exception_ptr error;
        try {
            job_();
        } catch (...) {
            error = std::current_exception();
        }
        lock.lock();
        jobError_ = error;
        job_ = nullptr;
        wake_.notify_all();
    }
}

void HelperThread::runBeside(const std::function<void()>& helper, const std::function<void()>& here,
                             bool parallel) {
    if (!parallel) {
        helper();
        here();
        return;
    }
    if (!thread_.joinable()) thread_ = std::thread([this] { serve(); });
    {
        const std::lock_guard lock(mutex_);
        job_ = helper;
        jobError_ = nullptr;
    }
    wake_.notify_all();
    std::exception_ptr failure;
    try {
        here();
    } catch (...) {
        failure = std::current_exception();
    }
    std::unique_lock lock(mutex_); // the helper's work ends before anything is rethrown
    wake_.wait(lock, [&] { return !job_; });
    if (!failure) failure = jobError_;
    if (failure) std::rethrow_exception(failure);
}

} // namespace esper
