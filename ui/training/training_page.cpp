#include "training_page.h"

#include "metric_chart.h"
#include "settings/studio_settings.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QThread>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace esper::ui {

namespace {
QString duration(double seconds) {
    if (seconds < 0) return QStringLiteral("—");
    const int s = int(std::lround(seconds));
    return s >= 3600 ? QString("%1 h %2 min").arg(s / 3600).arg(s % 3600 / 60, 2, 10, QChar('0'))
                     : QString("%1 min %2 s").arg(s / 60).arg(s % 60, 2, 10, QChar('0'));
}

// A folder chooser beside a line edit.
QWidget* withBrowse(QLineEdit* edit, QWidget* parent, const QString& title, bool folder) {
    auto* row = new QWidget(parent);
    auto* layout = new QHBoxLayout(row);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(edit, 1);
    auto* browse = new QPushButton(QObject::tr("Browse…"), row);
    layout->addWidget(browse);
    QObject::connect(browse, &QPushButton::clicked, row, [edit, parent, title, folder] {
        const QString path = folder ? QFileDialog::getExistingDirectory(parent, title, edit->text())
                                    : QFileDialog::getOpenFileName(parent, title, edit->text());
        if (!path.isEmpty()) edit->setText(path);
    });
    return row;
}
} // namespace

TrainingPage::TrainingPage(StudioSettings* settings, QWidget* parent)
    : QWidget(parent), settings_(settings), run_(new TrainingRun(this)), start_(new QLineEdit),
      images_(new QLineEdit), styles_(new QLineEdit("caption")), name_(new QLineEdit),
      method_(new QComboBox), device_(new QComboBox), free_(new QCheckBox(tr("ESPER-Free"))),
      fresh_(new QCheckBox(tr("Start from a fresh mapper"))), minutes_(new QDoubleSpinBox),
      iterations_(new QSpinBox), workers_(new QSpinBox), startButton_(new QPushButton(tr("Start"))),
      pauseButton_(new QPushButton(tr("Pause"))), stopButton_(new QPushButton(tr("Stop"))),
      resumeButton_(new QPushButton(tr("Resume"))),
      useButton_(new QPushButton(tr("Use this model"))),
      compareButton_(new QPushButton(tr("Compare…"))), status_(new QLabel), resumeNote_(new QLabel),
      rewardChart_(new MetricChart(tr("Reward and CLIP-S"), {"reward_total", "clip_s"},
                                   {tr("reward"), tr("CLIP-S")})),
      lossChart_(new MetricChart(tr("KL and loss"), {"kl", "loss_policy", "loss"},
                                 {tr("KL"), tr("policy loss"), tr("total loss")})),
      previews_(new QTreeWidget) {
    method_->addItem(tr("ESPER: reinforcement learning on your images (no captions needed)"));
    method_->addItem(tr("Supervised: the captions you accepted or edited in review"));
    images_->setPlaceholderText(tr("a folder of your images"));
    styles_->setToolTip(tr("Comma-separated style presets the model learns (ESPER-Style)"));
    minutes_->setRange(0, 24 * 60);
    minutes_->setDecimals(1);
    minutes_->setValue(10);
    minutes_->setSuffix(tr(" min"));
    minutes_->setSpecialValueText(tr("no limit"));
    iterations_->setRange(0, 1000000);
    iterations_->setSpecialValueText(tr("default"));
    device_->addItem("cpu");
    name_->setPlaceholderText(tr("name of the new model"));

    auto* form = new QFormLayout;
    form->addRow(tr("Learn"), method_);
    form->addRow(tr("Start from"), withBrowse(start_, this, tr("The bundle to start from"), true));
    auto* imagesRow = withBrowse(images_, this, tr("Your images"), true);
    auto* fromWorkspace = new QPushButton(tr("Workspace images"));
    fromWorkspace->setToolTip(tr("Learn from the images open in the workspace"));
    imagesRow->layout()->addWidget(fromWorkspace);
    form->addRow(tr("Images"), imagesRow);
    auto* stylesRow = new QHBoxLayout;
    stylesRow->addWidget(styles_, 1);
    stylesRow->addWidget(free_);
    form->addRow(tr("Styles"), stylesRow);
    auto* budgetRow = new QHBoxLayout;
    budgetRow->addWidget(minutes_);
    budgetRow->addWidget(new QLabel(tr("or iterations")));
    budgetRow->addWidget(iterations_);
    budgetRow->addWidget(fresh_);
    budgetRow->addStretch();
    form->addRow(tr("Budget"), budgetRow);
    auto* saveRow = new QHBoxLayout;
    saveRow->addWidget(name_, 1);
    saveRow->addWidget(new QLabel(tr("Device")));
    saveRow->addWidget(device_);
    saveRow->addWidget(new QLabel(tr("Workers")));
    saveRow->addWidget(workers_);
    form->addRow(tr("Save as"), saveRow);
    workers_->setRange(1, std::max(1, QThread::idealThreadCount()));
    workers_->setToolTip(tr("ESPER: train with several worker processes that share every batch "
                            "and sum their gradients (the same steps as one worker); for "
                            "machines with many cores or several GPUs"));

    auto* buttons = new QHBoxLayout;
    for (auto* b :
         {startButton_, pauseButton_, stopButton_, resumeButton_, useButton_, compareButton_})
        buttons->addWidget(b);
    buttons->addStretch();
    startButton_->setDefault(true);
    startButton_->setToolTip(tr("Start a new fine-tune (Ctrl+Return)"));
    startButton_->setShortcut(QKeySequence(tr("Ctrl+Return")));
    stopButton_->setToolTip(tr("Finish the current step, write a checkpoint and the model"));
    resumeButton_->setToolTip(tr("Continue the last run from its checkpoint"));
    status_->setWordWrap(true);
    status_->setObjectName("trainingStatus");
    pauseButton_->setObjectName("trainingPause");
    resumeNote_->setWordWrap(true);

    previews_->setColumnCount(4);
    previews_->setHeaderLabels({tr("iteration"), tr("image"), tr("style"), tr("caption")});
    previews_->setRootIsDecorated(false);
    previews_->header()->setStretchLastSection(true);
    previews_->setAlternatingRowColors(true);

    auto* charts = new QHBoxLayout;
    charts->addWidget(rewardChart_);
    charts->addWidget(lossChart_);
    auto* top = new QWidget;
    auto* topLayout = new QVBoxLayout(top);
    topLayout->addLayout(form);
    topLayout->addLayout(buttons);
    topLayout->addWidget(resumeNote_);
    topLayout->addWidget(status_);
    topLayout->addLayout(charts, 1);
    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(top);
    split->addWidget(previews_);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 1);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(split);

    auto methodChanged = [this, imagesRow] {
        const bool esper = method_->currentIndex() == 0;
        imagesRow->setEnabled(esper);
        free_->setEnabled(esper);
        minutes_->setEnabled(esper);
        workers_->setEnabled(esper);
    };
    connect(method_, &QComboBox::currentIndexChanged, this, methodChanged);
    methodChanged();
    connect(free_, &QCheckBox::toggled, styles_, &QWidget::setDisabled);
    connect(fromWorkspace, &QPushButton::clicked, this, [this] {
        const QStringList paths = workspaceImages ? workspaceImages() : QStringList();
        if (paths.isEmpty()) {
            emit message(tr("The workspace has no images yet: drop some there first."));
            return;
        }
        images_->setText(paths.join(';'));
    });
    connect(startButton_, &QPushButton::clicked, this, &TrainingPage::start);
    connect(resumeButton_, &QPushButton::clicked, this, &TrainingPage::resume);
    connect(pauseButton_, &QPushButton::clicked, this, [this] {
        if (run_->state() == TrainingRun::State::Paused)
            run_->carryOn();
        else
            run_->pause();
    });
    connect(stopButton_, &QPushButton::clicked, run_, &TrainingRun::stop);
    connect(useButton_, &QPushButton::clicked, this,
            [this] { emit useBundle(run_->request().outDir); });
    connect(compareButton_, &QPushButton::clicked, this, [this] {
        const auto* first = previews_->topLevelItem(0);
        QString image = first ? first->data(1, Qt::UserRole).toString() : QString();
        emit compareBundles(run_->request().startBundle, run_->request().outDir, image);
    });
    connect(run_, &TrainingRun::stateChanged, this, [this] { updateButtons(); });
    connect(run_, &TrainingRun::iteration, this, &TrainingPage::onIteration);
    connect(run_, &TrainingRun::preview, this, &TrainingPage::onPreview);
    connect(run_, &TrainingRun::message, this, [this](const QString& text) {
        status_->setText(text);
        emit message(text);
    });
    connect(run_, &TrainingRun::finished, this, &TrainingPage::onFinished);

    // A run the studio was closed on, or that was stopped, can be resumed after a restart.
    const auto last = settings_->lastTraining();
    if (!last.isEmpty()) {
        setRequest(TrainingRequest::fromJson(last));
        if (!settings_->lastTrainingFinished())
            resumeNote_->setText(tr("The last fine-tune (%1) did not finish; Resume continues it "
                                    "from its checkpoint.")
                                     .arg(QFileInfo(run_->request().outDir).fileName()));
    }
    updateButtons();
}

void TrainingPage::setCurrentBundle(const QString& dir) {
    if (start_->text().isEmpty() || run_->state() == TrainingRun::State::Idle) start_->setText(dir);
}

void TrainingPage::setModelsDir(const QString& dir) {
    modelsDir_ = dir;
}

void TrainingPage::setDevices(const QStringList& devices) {
    const QString current = device_->currentText();
    device_->clear();
    device_->addItems(devices);
    device_->setCurrentText(current);
}

TrainingRequest TrainingPage::request() const {
    TrainingRequest r;
    r.method = method_->currentIndex() == 0 ? TrainingRequest::Method::Esper
                                            : TrainingRequest::Method::SupervisedPairs;
    r.startBundle = start_->text().trimmed();
    for (const auto& part : images_->text().split(';', Qt::SkipEmptyParts))
        r.images << part.trimmed();
    if (!free_->isChecked() || r.method == TrainingRequest::Method::SupervisedPairs)
        for (const auto& s : styles_->text().split(',', Qt::SkipEmptyParts))
            r.styles << s.trimmed();
    r.randomMapper = fresh_->isChecked();
    r.iterations = iterations_->value();
    r.minutes = r.iterations > 0 ? 0 : minutes_->value();
    r.device = device_->currentText();
    r.workers = r.method == TrainingRequest::Method::Esper ? workers_->value() : 1;
    QString name = name_->text().trimmed();
    if (name.isEmpty()) name = "finetune-" + QDateTime::currentDateTime().toString("yyyyMMdd-HHmm");
    const QString root = modelsDir_.isEmpty() ? QDir::homePath() : modelsDir_;
    r.outDir = QFileInfo(name).isAbsolute() ? name : QDir(root).filePath("finetunes/" + name);
    if (r.method == TrainingRequest::Method::SupervisedPairs)
        r.pairsFile = QDir(r.outDir).filePath("review-pairs.jsonl");
    return r;
}

void TrainingPage::setRequest(const TrainingRequest& r) {
    method_->setCurrentIndex(r.method == TrainingRequest::Method::Esper ? 0 : 1);
    start_->setText(r.startBundle);
    images_->setText(r.images.join(';'));
    free_->setChecked(r.method == TrainingRequest::Method::Esper && r.styles.isEmpty());
    if (!r.styles.isEmpty()) styles_->setText(r.styles.join(", "));
    fresh_->setChecked(r.randomMapper);
    iterations_->setValue(r.iterations);
    minutes_->setValue(r.minutes);
    device_->setCurrentText(r.device);
    workers_->setValue(r.workers);
    name_->setText(r.outDir);
}

void TrainingPage::start() {
    const TrainingRequest r = request();
    if (r.startBundle.isEmpty() || !QFileInfo::exists(r.startBundle + "/esper.json")) {
        emit message(tr("Choose the bundle to start from (a folder with esper.json)."));
        return;
    }
    if (r.method == TrainingRequest::Method::Esper && r.images.isEmpty()) {
        emit message(tr("Choose a folder of images to learn from, or use the workspace's."));
        return;
    }
    if (QFileInfo::exists(r.outDir + "/esper.json") && r.outDir != r.startBundle) {
        emit message(tr("%1 already holds a model: give the new one another name.").arg(r.outDir));
        return;
    }
    if (r.method == TrainingRequest::Method::SupervisedPairs) {
        if (!writeReviewPairs) return;
        QDir().mkpath(r.outDir);
        status_->setText(tr("Writing the reviewed captions…"));
        writeReviewPairs(r.pairsFile, [this, r](const QString& error) {
            if (!error.isEmpty()) {
                status_->setText(error);
                emit message(error);
                return;
            }
            begin(r, false);
        });
        return;
    }
    begin(r, false);
}

void TrainingPage::resume() {
    begin(run_->request().outDir.isEmpty() ? request() : run_->request(), true);
}

void TrainingPage::begin(const TrainingRequest& r, bool resume) {
    if (!resume) {
        rewardChart_->clear();
        lossChart_->clear();
        previews_->clear();
    }
    resumeNote_->clear();
    settings_->setLastTraining(r.toJson(), false);
    status_->setText(resume ? tr("Resuming %1…").arg(r.outDir) : tr("Starting…"));
    run_->start(r, resume);
    updateButtons();
}

void TrainingPage::onIteration(int done, int planned, double secondsLeft,
                               const QVariantMap& metrics) {
    rewardChart_->add(done, metrics);
    lossChart_->add(done, metrics);
    QString text = planned > 0 ? tr("Iteration %1 of %2").arg(done).arg(planned)
                               : tr("Iteration %1").arg(done);
    if (metrics.contains("episodes_per_second"))
        text += tr(" · %1 episodes/s").arg(metrics["episodes_per_second"].toDouble(), 0, 'f', 0);
    if (metrics.contains("clip_s"))
        text += tr(" · CLIP-S %1").arg(metrics["clip_s"].toDouble(), 0, 'f', 3);
    if (metrics.contains("loss"))
        text += tr(" · loss %1").arg(metrics["loss"].toDouble(), 0, 'f', 3);
    if (metrics.contains("workers"))
        text += tr(" · %1 workers, %2 s of each iteration exchanging")
                    .arg(metrics["workers"].toInt())
                    .arg(metrics["seconds_exchange"].toDouble(), 0, 'f', 2);
    text += tr(" · %1 left").arg(duration(secondsLeft));
    status_->setText(text);
}

void TrainingPage::onPreview(int iteration, const QVector<TrainingPreview>& captions) {
    // Newest first, so the latest captions are in view.
    int at = 0;
    for (const auto& c : captions) {
        auto* item = new QTreeWidgetItem({QString::number(iteration), QFileInfo(c.image).fileName(),
                                          c.style.isEmpty() ? tr("free") : c.style, c.text});
        item->setData(1, Qt::UserRole, c.image);
        item->setToolTip(1, c.image);
        previews_->insertTopLevelItem(at++, item);
    }
}

void TrainingPage::onFinished(bool ok, bool stopped, const QJsonObject& summary,
                              const QString& error) {
    // A stopped run keeps its checkpoint: it stays resumable after a restart.
    settings_->setLastTraining(run_->request().toJson(), ok && !stopped);
    if (!ok) {
        status_->setText(tr("Training failed: %1").arg(error));
        emit message(tr("Training failed: %1").arg(error));
    } else {
        QString text = stopped ? tr("Stopped after %1; the model so far is saved in %2.")
                               : tr("Finished after %1; the model is saved in %2.");
        const int steps = summary["iterations"].toInt(summary["steps"].toInt());
        text = text.arg(tr("%n iteration(s)", nullptr, steps), run_->request().outDir);
        const int skipped = int(summary["skipped_images"].toArray().size());
        if (skipped > 0)
            text += tr(" %n image(s) could not be read and were left out (the first: %1).", nullptr,
                       skipped)
                        .arg(summary["skipped_images"].toArray().first().toString());
        if (summary.contains("pair_loss_before"))
            text += tr(" The captions' loss went from %1 to %2.")
                        .arg(summary["pair_loss_before"].toDouble(), 0, 'f', 3)
                        .arg(summary["pair_loss_after"].toDouble(), 0, 'f', 3);
        status_->setText(text);
        emit message(text);
    }
    updateButtons();
}

bool TrainingPage::canResume() const {
    return resumeButton_->isEnabled();
}

void TrainingPage::updateButtons() {
    const auto s = run_->state();
    const bool busy = s == TrainingRun::State::Running || s == TrainingRun::State::Paused ||
                      s == TrainingRun::State::Stopping;
    startButton_->setEnabled(!busy);
    pauseButton_->setEnabled((s == TrainingRun::State::Running && run_->canPause()) ||
                             s == TrainingRun::State::Paused);
    pauseButton_->setToolTip(run_->canPause() ? QString()
                                              : tr("A run of several workers cannot pause; Stop "
                                                   "writes a checkpoint that Resume continues"));
    pauseButton_->setText(s == TrainingRun::State::Paused ? tr("Continue") : tr("Pause"));
    stopButton_->setEnabled(s == TrainingRun::State::Running || s == TrainingRun::State::Paused);
    const QString out =
        run_->request().outDir.isEmpty() ? request().outDir : run_->request().outDir;
    const bool hasCheckpoint = QFileInfo::exists(out + "/esper-checkpoint.safetensors") ||
                               QFileInfo::exists(out + "/finetune-checkpoint.safetensors");
    // Resumable: a checkpoint exists and the run it belongs to was stopped or cut short.
    resumeButton_->setEnabled(!busy && hasCheckpoint && !settings_->lastTrainingFinished());
    const bool hasModel = QFileInfo::exists(out + "/esper.json");
    useButton_->setEnabled(!busy && hasModel);
    compareButton_->setEnabled(!busy && hasModel);
}

} // namespace esper::ui
