#include "training_run.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QStandardPaths>

#include <algorithm>
#include <csignal>
#include <sys/types.h>
#include <unistd.h>

namespace esper::ui {

QJsonObject TrainingRequest::toJson() const {
    return {{"method", method == Method::Esper ? "esper" : "supervised-pairs"},
            {"start_bundle", startBundle},
            {"out", outDir},
            {"images", QJsonArray::fromStringList(images)},
            {"pairs", pairsFile},
            {"styles", QJsonArray::fromStringList(styles)},
            {"random_mapper", randomMapper},
            {"iterations", iterations},
            {"minutes", minutes},
            {"device", device},
            {"workers", workers},
            {"preview_every", previewEvery},
            {"preview_images", previewImages}};
}

TrainingRequest TrainingRequest::fromJson(const QJsonObject& j) {
    TrainingRequest r;
    r.method =
        j["method"].toString() == "supervised-pairs" ? Method::SupervisedPairs : Method::Esper;
    r.startBundle = j["start_bundle"].toString();
    r.outDir = j["out"].toString();
    for (const auto& v : j["images"].toArray())
        r.images << v.toString();
    r.pairsFile = j["pairs"].toString();
    for (const auto& v : j["styles"].toArray())
        r.styles << v.toString();
    r.randomMapper = j["random_mapper"].toBool();
    r.iterations = j["iterations"].toInt();
    r.minutes = j["minutes"].toDouble();
    r.device = j["device"].toString("cpu");
    r.workers = std::max(1, j["workers"].toInt(1));
    r.previewEvery = j["preview_every"].toInt(5);
    r.previewImages = j["preview_images"].toInt(3);
    return r;
}

TrainingRun::TrainingRun(QObject* parent) : QObject(parent) {
    qRegisterMetaType<TrainingPreview>();
    qRegisterMetaType<QVector<TrainingPreview>>();
    process_.setProcessChannelMode(QProcess::SeparateChannels);
    // The trainer keeps every core busy; at a lower priority it leaves the studio's own thread
    // (and interactive captioning) responsive.
    // Its own process group: a signal to the group reaches the workers `esper launch` starts.
    process_.setChildProcessModifier([] {
        [[maybe_unused]] const int niceness = ::nice(10);
        ::setpgid(0, 0);
    });
    connect(&process_, &QProcess::readyReadStandardError, this, &TrainingRun::readEvents);
    connect(&process_, &QProcess::started, this, [this] { setState(State::Running); });
    connect(&process_, &QProcess::errorOccurred, this, [this](QProcess::ProcessError e) {
        if (e != QProcess::FailedToStart) return;
        setState(State::Failed);
        emit finished(false, false, {},
                      tr("The trainer could not be started (%1): %2")
                          .arg(process_.program(), process_.errorString()));
    });
    connect(&process_, &QProcess::finished, this, [this](int code, QProcess::ExitStatus status) {
        readEvents();
        if (!pending_.isEmpty()) handleLine(pending_);
        pending_.clear();
        const QJsonObject summary =
            QJsonDocument::fromJson(process_.readAllStandardOutput()).object();
        // Exit 130: stopped by Stop (Ctrl+C) with its checkpoint and bundle written.
        const bool stopped = stopAsked_ && (code == 0 || code == 130);
        const bool ok = status == QProcess::NormalExit && (code == 0 || stopped);
        setState(ok ? State::Finished : State::Failed);
        QString error;
        if (!ok)
            error = status == QProcess::CrashExit
                        ? tr("The trainer stopped unexpectedly (it may have run out of memory). "
                             "Resume continues from its last checkpoint.")
                    : lastProblem_.isEmpty() ? tr("The trainer failed (exit code %1).").arg(code)
                                             : lastProblem_;
        emit finished(ok, stopped, summary, error);
    });
}

TrainingRun::~TrainingRun() {
    if (process_.state() == QProcess::NotRunning) return;
    if (state_ == State::Paused) signal(SIGCONT);
    signal(SIGINT);
    if (!process_.waitForFinished(30000)) signal(SIGKILL);
    process_.waitForFinished(5000);
}

void TrainingRun::signal(int number) {
    const pid_t pid = pid_t(process_.processId());
    if (pid <= 0) return;
    if (::kill(-pid, number) != 0) ::kill(pid, number); // not (yet) a group leader
}

QString TrainingRun::cliPath() {
    const QString env = qEnvironmentVariable("ESPER_CLI");
    if (!env.isEmpty()) return env;
    const QDir here(QCoreApplication::applicationDirPath());
    for (const QString& candidate : {here.filePath("esper"), here.filePath("../cli/esper")})
        if (QFileInfo(candidate).isExecutable()) return QFileInfo(candidate).canonicalFilePath();
    const QString found = QStandardPaths::findExecutable("esper");
    return found.isEmpty() ? QStringLiteral("esper") : found;
}

QStringList TrainingRun::arguments(const TrainingRequest& r, bool resume) {
    QStringList a;
    if (r.method == TrainingRequest::Method::Esper && r.workers > 1)
        a << "launch"
          << "--workers" << QString::number(r.workers) << "--";
    if (r.method == TrainingRequest::Method::Esper) {
        a << "train"
          << "esper"
          << "--bundle" << r.startBundle << "--out" << r.outDir;
        // A bundle trained by ESPER carries the hyperparameters that worked for it: a fine-tune
        // starts from them rather than from the paper's, which suit GPT-2 and COCO.
        const QString config = QDir(r.startBundle).filePath("esper-config.json");
        if (QFileInfo::exists(config)) a << "--config" << config;
        for (const auto& image : r.images)
            a << "--images" << image;
        if (r.styles.isEmpty())
            a << "--free";
        else
            a << "--styles" << r.styles.join(',');
        if (r.iterations > 0) a << "--iterations" << QString::number(r.iterations);
        // The batch's parts (2 by default) are shared out among the workers.
        if (r.workers > 2) a << "--set" << QString("parts=%1").arg(r.workers);
        if (r.minutes > 0) a << "--minutes" << QString::number(r.minutes);
        a << "--preview-every" << QString::number(r.previewEvery) << "--preview-images"
          << QString::number(r.previewImages);
    } else {
        a << "train"
          << "supervised"
          << "--bundle" << r.startBundle << "--pairs" << r.pairsFile << "--out" << r.outDir;
        if (r.styles.size() == 1) a << "--style" << r.styles.first();
        if (r.iterations > 0) a << "--steps" << QString::number(r.iterations);
    }
    if (r.randomMapper) a << "--random-mapper";
    a << "--device" << r.device << "--progress"
      << "json";
    if (resume) a << "--resume";
    return a;
}

bool TrainingRun::start(const TrainingRequest& request, bool resume) {
    if (process_.state() != QProcess::NotRunning) return false;
    request_ = request;
    stopAsked_ = false;
    lastProblem_.clear();
    pending_.clear();
    QDir().mkpath(request.outDir);
    // Not waited for: `started` or `errorOccurred` answers, and the UI thread never blocks.
    process_.start(cliPath(), arguments(request, resume));
    return true;
}

void TrainingRun::pause() {
    if (state_ != State::Running || !canPause()) return;
    signal(SIGSTOP);
    setState(State::Paused);
}

void TrainingRun::carryOn() {
    if (state_ != State::Paused) return;
    signal(SIGCONT);
    setState(State::Running);
}

void TrainingRun::stop() {
    if (process_.state() == QProcess::NotRunning) return;
    stopAsked_ = true;
    if (state_ == State::Paused) signal(SIGCONT);
    signal(SIGINT);
    setState(State::Stopping);
}

void TrainingRun::readEvents() {
    pending_ += process_.readAllStandardError();
    for (qsizetype end; (end = pending_.indexOf('\n')) >= 0;) {
        const QByteArray line = pending_.left(end);
        pending_.remove(0, end + 1);
        handleLine(line);
    }
}

void TrainingRun::handleLine(const QByteArray& line) {
    if (line.trimmed().isEmpty()) return;
    const QJsonObject e = QJsonDocument::fromJson(line).object();
    const QString kind = e["event"].toString();
    if (kind == "iteration") {
        const QJsonValue left = e["seconds_left"];
        emit iteration(e["done"].toInt(), e["planned"].toInt(),
                       left.isDouble() ? left.toDouble() : -1,
                       e["metrics"].toObject().toVariantMap());
    } else if (kind == "preview") {
        QVector<TrainingPreview> captions;
        for (const auto& c : e["captions"].toArray()) {
            const QJsonObject o = c.toObject();
            captions.push_back(
                {o["image"].toString(), o["style"].toString(), o["text"].toString()});
        }
        emit preview(e["iteration"].toInt(), captions);
    } else if (kind == "message") {
        emit message(e["text"].toString());
    } else {
        // Not an event: the trainer's own error line ("esper train esper: ...") or a library's.
        QString text = QString::fromUtf8(line).trimmed();
        // The launcher's own lines say which worker ended how; the worker's says why.
        if (text.startsWith("esper launch: ")) {
            emit message(text.mid(14));
            return;
        }
        const int colon = text.indexOf(": ");
        if (text.startsWith("esper ") && colon > 0) text = text.mid(colon + 2);
        lastProblem_ = text;
        emit message(text);
    }
}

void TrainingRun::setState(State s) {
    if (s == state_) return;
    state_ = s;
    emit stateChanged(s);
}

} // namespace esper::ui
