// The Training page: fine-tune the captioner on the user's own images (ESPER, no captions
// needed) or on the captions accepted in review (supervised), in a child process, and watch it
// learn: charts of reward, CLIP-S, KL and loss, episodes/s and ETA, and the current model's
// captions of a few of the user's images every few iterations. Pause, Stop (checkpoint and
// bundle written), Resume (also after a restart of the studio), Use this model, Compare.
#pragma once

#include "training_run.h"

#include <QWidget>

#include <functional>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTreeWidget;

namespace esper::ui {

class MetricChart;
class StudioSettings;

class TrainingPage final : public QWidget {
    Q_OBJECT

public:
    explicit TrainingPage(StudioSettings* settings, QWidget* parent = nullptr);

    // Where the form's defaults come from.
    void setCurrentBundle(const QString& dir);
    void setModelsDir(const QString& dir);
    void setDevices(const QStringList& devices);
    // The workspace's images, for "Use the workspace's images".
    std::function<QStringList()> workspaceImages;
    // Writes the accepted and edited review captions as a dataset at the path given and calls
    // back with an empty string, or with what went wrong.
    std::function<void(const QString&, std::function<void(const QString&)>)> writeReviewPairs;

    // The form as a request, and filling the form from one.
    TrainingRequest request() const;
    void setRequest(const TrainingRequest& r);
    TrainingRun* run() const { return run_; }
    MetricChart* rewardChart() const { return rewardChart_; }
    MetricChart* lossChart() const { return lossChart_; }
    QTreeWidget* previews() const { return previews_; }

    void start();
    void resume();
    bool canResume() const;

signals:
    void useBundle(const QString& dir);
    void compareBundles(const QString& oldDir, const QString& newDir, const QString& image);
    void message(const QString& text);

private:
    void begin(const TrainingRequest& r, bool resume);
    void updateButtons();
    void onIteration(int done, int planned, double secondsLeft, const QVariantMap& metrics);
    void onPreview(int iteration, const QVector<TrainingPreview>& captions);
    void onFinished(bool ok, bool stopped, const QJsonObject& summary, const QString& error);

    StudioSettings* settings_;
    TrainingRun* run_;
    QString modelsDir_;
    QLineEdit *start_, *images_, *styles_, *name_;
    QComboBox *method_, *device_;
    QCheckBox *free_, *fresh_;
    QDoubleSpinBox* minutes_;
    QSpinBox* iterations_;
    QSpinBox* workers_;
    QPushButton *startButton_, *pauseButton_, *stopButton_, *resumeButton_, *useButton_,
        *compareButton_;
    QLabel *status_, *resumeNote_;
    MetricChart *rewardChart_, *lossChart_;
    QTreeWidget* previews_;
};

} // namespace esper::ui
