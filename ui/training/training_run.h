// A fine-tuning run of the studio, as a child process: `esper train esper ...` or
// `esper train supervised --bundle ... --pairs ...` with `--progress json`, its JSON events read
// line by line from stderr.
//
// Why a child process and not a thread of the studio: training holds the models twice over
// (policy, reference, optimizer state) for minutes or hours; a crash or an out-of-memory in it
// must not take the user's unsaved review work with it, and Stop, checkpoints and Resume then
// behave exactly as on the command line (Stop is Ctrl+C: the trainer finishes its step, writes
// its checkpoint and the bundle). Pause stops the process (SIGSTOP) without losing anything.
// A run of several workers is `esper launch --workers N -- esper train esper ...`; the child
// leads its own process group, so Stop reaches every worker at once (a pause longer than the
// workers' timeout would end their exchanges, so such a run cannot pause).
#pragma once

#include <QJsonObject>
#include <QObject>
#include <QProcess>
#include <QStringList>
#include <QVariantMap>
#include <QVector>

namespace esper::ui {

struct TrainingRequest {
    enum class Method { Esper, SupervisedPairs };
    Method method = Method::Esper;
    QString startBundle; // the bundle to start from
    QString outDir;      // the new bundle
    QStringList images;  // ESPER: folders or files of the user's images
    QString pairsFile;   // supervised: a dataset of images and captions
    QStringList styles;  // ESPER-Style's styles; empty: ESPER-Free
    bool randomMapper = false;
    int iterations = 0; // ESPER iterations or supervised steps (0: the trainer's default)
    double minutes = 0; // ESPER: a time budget instead (0: none)
    QString device = "cpu";
    int workers = 1; // ESPER: data-parallel workers on this machine (`esper launch`)
    int previewEvery = 5;
    int previewImages = 3;

    QJsonObject toJson() const;
    static TrainingRequest fromJson(const QJsonObject& j);
};

struct TrainingPreview {
    QString image, style, text;
};

class TrainingRun final : public QObject {
    Q_OBJECT

public:
    enum class State { Idle, Running, Paused, Stopping, Finished, Failed };
    Q_ENUM(State)

    explicit TrainingRun(QObject* parent = nullptr);
    ~TrainingRun() override; // a running child is stopped as Stop would, then waited for

    // The `esper` executable: $ESPER_CLI, beside the studio, the build tree's app/cli, or PATH.
    static QString cliPath();
    static QStringList arguments(const TrainingRequest& request, bool resume);

    // Starts the request (resume: continue from its checkpoint in request.outDir); false when a
    // run is still going. The state turns Running once the process has started.
    bool start(const TrainingRequest& request, bool resume = false);
    bool canPause() const { return request_.workers <= 1; }
    void pause();
    void carryOn();
    void stop(); // the trainer finishes its step and writes its checkpoint and bundle
    State state() const { return state_; }
    const TrainingRequest& request() const { return request_; }
    qint64 processId() const { return process_.processId(); }

signals:
    void stateChanged(esper::ui::TrainingRun::State state);
    void iteration(int done, int planned, double secondsLeft, const QVariantMap& metrics);
    void preview(int iteration, const QVector<esper::ui::TrainingPreview>& captions);
    void message(const QString& text);
    // When the process ends: its JSON summary (stdout) or, on failure, what went wrong.
    void finished(bool ok, bool stopped, const QJsonObject& summary, const QString& error);

private:
    void readEvents();
    void handleLine(const QByteArray& line);
    void setState(State s);
    void signal(int signal); // the child and, under esper launch, its workers

    QProcess process_;
    TrainingRequest request_;
    State state_ = State::Idle;
    QByteArray pending_;  // a partial stderr line
    QString lastProblem_; // the last plain stderr line: the error when the process fails
    bool stopAsked_ = false;
};

} // namespace esper::ui

Q_DECLARE_METATYPE(esper::ui::TrainingPreview)
