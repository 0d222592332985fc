#include "main_window.h"

#include "workspace/live_listen.h"

#include "models/model_manager.h"
#include "review/caption_origin.h"
#include "review/export_dialog.h"
#include "review/replace_dialog.h"
#include "review/review_commands.h"
#include "review/review_io.h"
#include "review/review_view.h"
#include "settings/appearance.h"
#include "shortcuts_help.h"
#include "training/compare_view.h"
#include "training/training_page.h"
#include "workspace/decoding_panel.h"
#include "workspace/gallery_model.h"
#include "workspace/image_preview.h"
#include "workspace/style_commands.h"
#include "workspace/style_panel.h"
#include "workspace/workspace_widget.h"

#include "styles/style_presets.h"

#include <QActionGroup>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QComboBox>
#include <QDateTime>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QImage>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QStackedWidget>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTableView>
#include <QToolBar>
#include <QUndoStack>

namespace esper::ui {

namespace {
QVector<StyleSpec> presetStyles() {
    QVector<StyleSpec> out;
    for (const auto& p : builtinStylePresets())
        out.push_back({QString::fromStdString(p.id), QString::fromStdString(p.label),
                       QString::fromStdString(p.prompt)});
    return out;
}

// A project file of its own for work that has none yet: the app's projects folder, named by
// what made it and when.
QString newProjectPath(const QString& what) {
    const QString dir =
        QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/projects";
    QDir().mkpath(dir);
    return dir + "/" + what + "-" + QDateTime::currentDateTime().toString("yyyyMMdd-HHmmss") +
           ".esper-review";
}
} // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent), engine_(new EngineClient(this)), undo_(new QUndoStack(this)),
      pages_(new QStackedWidget), workspace_(new WorkspaceWidget(engine_)),
      review_(new ReviewView(undo_)), training_(new TrainingPage(&settings_)),
      device_(new QComboBox), bundleLabel_(new QLabel), latencyLabel_(new QLabel),
      queueLabel_(new QLabel), progress_(new QProgressBar),
      cancelAll_(new QPushButton(tr("Cancel"))),
      modelsHint_(new QPushButton(tr("Captioning real photos? Get models…"))) {
    setWindowTitle(tr("ESPER Studio"));
    applyAppearance(appearanceFromName(settings_.appearance()));
    setAcceptDrops(true);
    pages_->addWidget(workspace_);
    pages_->addWidget(review_);
    pages_->addWidget(training_);
    review_->setQualityOptions(settings_.qualityOptions());
    setCentralWidget(pages_);
    connectTraining();

    workspace_->styles()->setPresets(presetStyles());
    const auto saved = settings_.styles();
    workspace_->styles()->setStyles(saved.isEmpty() ? presetStyles().mid(0, 4) : saved);
    workspace_->decoding()->setSettings(settings_.decoding());
    connectStyleUndo();
    // The remembered device until the worker has asked LibTorch which ones exist: the UI thread
    // never touches it.
    device_->addItem(settings_.device());
    device_->setSizeAdjustPolicy(QComboBox::AdjustToContents); // "cpu · int8" shown whole
    device_->setToolTip(tr("Where the models run. On the CPU, \"int8\" and \"fp16\" keep the "
                           "language model's weights compressed (and run CLIP in bf16 where the "
                           "processor has AMX): captions come 2-3 times faster, and a few "
                           "come out slightly different"));
    connect(engine_, &EngineClient::devicesFound, this, [this](const QStringList& devices) {
        const QString current = device_->currentText();
        const QSignalBlocker quiet(device_);
        device_->clear();
        QStringList choices;
        for (const QString& d : devices) {
            choices << d;
            if (d == "cpu")
                choices << "cpu · int8"
                        << "cpu · fp16"; // compressed weights
        }
        device_->addItems(choices);
        training_->setDevices(devices); // training computes in full precision
        if (choices.contains(current)) {
            device_->setCurrentText(current);
        } else {
            // The remembered GPU is gone: say so, and reload on the CPU.
            device_->setCurrentText("cpu");
            statusBar()->showMessage(tr("%1 is not available here; using the CPU").arg(current),
                                     8000);
            settings_.setDevice("cpu");
            if (!settings_.lastBundle().isEmpty()) openBundle(settings_.lastBundle());
        }
        updateStatus();
    });
    engine_->probeDevices();

    progress_->setMaximumWidth(220);
    progress_->setVisible(false);
    cancelAll_->setVisible(false);
    // The first-run hint: the demo captions the synthetic world's shapes, not photographs.
    modelsHint_->setFlat(true);
    modelsHint_->setToolTip(tr("The demo model knows only the synthetic world's coloured shapes; "
                               "File → Models… gets CLIP and GPT-2 for real images"));
    modelsHint_->hide();
    connect(modelsHint_, &QPushButton::clicked, this, &MainWindow::showModels);
    statusBar()->addPermanentWidget(modelsHint_);
    statusBar()->addPermanentWidget(bundleLabel_);
    statusBar()->addPermanentWidget(latencyLabel_);
    statusBar()->addPermanentWidget(queueLabel_);
    statusBar()->addPermanentWidget(progress_);
    statusBar()->addPermanentWidget(cancelAll_);
    review_->setEngine(engine_);
    buildMenus();

    connect(engine_, &EngineClient::bundleLoaded, this, [this](const BundleInfo& info) {
        if (info.ok) {
            bundleName_ = info.name;
            bundleDevice_ = info.device;
            bundleDir_ = info.dir;
            training_->setCurrentBundle(info.dir);
            settings_.setLastBundle(info.dir);
            settings_.addRecentBundle(info.dir);
            statusBar()->showMessage(tr("Loaded %1 on %2").arg(info.name, info.device), 5000);
            const QString loaded = QFileInfo(info.dir).canonicalFilePath();
            modelsHint_->setVisible(
                std::any_of(shippedBundles_.begin(), shippedBundles_.end(), [&](const QString& d) {
                    return QFileInfo(d).canonicalFilePath() == loaded;
                }));
        } else {
            bundleName_ = tr("no model");
        }
        workspace_->setBundleState(info.ok, info.error);
        updateStatus();
    });
    connect(engine_, &EngineClient::queueChanged, this, [this] { updateStatus(); });
    connect(workspace_, &WorkspaceWidget::latency, this,
            [this](double ms) { latencyLabel_->setText(tr("last %1 ms").arg(ms, 0, 'f', 0)); });
    connect(workspace_, &WorkspaceWidget::message, this,
            [this](const QString& m) { statusBar()->showMessage(m, 4000); });
    connect(review_, &ReviewView::compareRequested, this, &MainWindow::compareModels);
    connect(review_, &ReviewView::openFailed, this, [this](const QString& path, const QString& e) {
        statusBar()->clearMessage();
        // Window-modal but not blocking: the file thread's answer arrives in an event handler.
        auto* box = new QMessageBox(QMessageBox::Warning,
                                    tr("Cannot open %1").arg(QFileInfo(path).fileName()), e,
                                    QMessageBox::Ok, this);
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->open();
    });
    connect(review_, &ReviewView::opened, this, [this](const QString& path) {
        statusBar()->showMessage(tr("Opened %1").arg(path), 4000);
    });
    connect(review_, &ReviewView::message, this,
            [this](const QString& m) { statusBar()->showMessage(m, 6000); });
    // Caption all's captions reach review as generated items as they arrive, and are saved
    // (atomically) with them: a crash loses at most the image in flight.
    connect(
        engine_, &EngineClient::backgroundFinished, this, [this](quint64, const CaptionOutcome& o) {
            if (!o.error.isEmpty() || o.captions.isEmpty()) return; // marked in the gallery
            if (review_->projectPath().isEmpty()) {
                review_->setProjectPath(newProjectPath("caption-all"));
                statusBar()->showMessage(
                    tr("Captions are saved to %1 as they arrive (File → Save review project "
                       "as… to choose the place)")
                        .arg(review_->projectPath()),
                    10000);
            }
            for (const auto& c : o.captions)
                review_->model()->addGenerated(o.imagePath, c.styleId, c.text, c.clipS, bundleName_,
                                               captionOrigin(bundleName_, c, o.decoding));
            // "Replace": the new caption becomes the one to review (undoable like an edit).
            if (replaceOnArrival_.remove(o.imagePath)) {
                const auto& first = o.captions.first();
                undo_->push(new BulkEditCommand(
                    review_->model(),
                    {{o.imagePath, first.text, ReviewStatus::Unreviewed, true,
                      bundleName_ + " · " + first.styleId, first.clipS}},
                    tr("replace the caption of %1").arg(QFileInfo(o.imagePath).fileName())));
            }
            // Saved now unless a save is still being written (the autosave that the change
            // started follows it): at most the images of one save's time are at risk.
            if (!review_->files()->busy()) review_->saveNow();
        });
    connect(
        workspace_, &WorkspaceWidget::accepted, this,
        [this](const QString& path, const QString& style, const QString& caption, double clipS) {
            QString prompt;
            for (const auto& spec : workspace_->styles()->styles())
                if (spec.id == style) prompt = spec.prompt;
            const int row = review_->model()->addGenerated(
                path, style, caption, clipS, bundleName_,
                captionOrigin(bundleName_, {style, caption, clipS, 0, prompt},
                              workspace_->decoding()->settings()));
            review_->model()->setCaption(row, caption, bundleName_ + " · " + style);
            review_->model()->setStatus(row, ReviewStatus::Accepted);
        });
    connect(workspace_, &WorkspaceWidget::progress, this, [this](int done, int total, double left) {
        const bool running = done < total;
        progress_->setVisible(running);
        cancelAll_->setVisible(running);
        progress_->setRange(0, std::max(1, total));
        progress_->setValue(done);
        progress_->setFormat(left >= 0 ? tr("%v/%m  ETA %1 s").arg(int(left)) : tr("%v/%m"));
        progress_->setTextVisible(true);
        if (!running && total > 0)
            statusBar()->showMessage(tr("Captioned %1 images").arg(done), 5000);
    });
    connect(cancelAll_, &QPushButton::clicked, workspace_, &WorkspaceWidget::cancelCaptionAll);
    connect(device_, &QComboBox::currentTextChanged, this, [this](const QString& d) {
        settings_.setDevice(d);
        if (!settings_.lastBundle().isEmpty()) openBundle(settings_.lastBundle());
    });

    restoreGeometry(settings_.windowGeometry());
    restoreState(settings_.windowState());
    if (settings_.windowGeometry().isEmpty()) resize(1280, 800);
    updateStatus();
}

MainWindow::~MainWindow() = default;

void MainWindow::showLiveListening() {
    if (!liveDock_) {
        live_ = new LiveListenPanel(
            engine_, [this] { return workspace_->styles()->styles(); },
            [this] { return workspace_->decoding()->settings(); });
        liveDock_ = new QDockWidget(tr("Listen live"), this);
        liveDock_->setObjectName("liveListening");
        liveDock_->setWidget(live_);
        addDockWidget(Qt::RightDockWidgetArea, liveDock_);
        connect(live_, &LiveListenPanel::message, this,
                [this](const QString& m) { statusBar()->showMessage(m, 6000); });
        // A kept clip becomes a workspace item, and its captions generated items to review.
        connect(live_, &LiveListenPanel::kept, this,
                [this](const QString& path, const CaptionOutcome& o) {
                    workspace_->addPaths({path});
                    for (const auto& c : o.captions)
                        review_->model()->addGenerated(path, c.styleId, c.text, c.clipS,
                                                       bundleName_,
                                                       captionOrigin(bundleName_, c, o.decoding));
                });
    }
    liveDock_->show();
    liveDock_->raise();
    showWorkspace();
}

void MainWindow::buildMenus() {
    auto* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("Open images or sounds…"), QKeySequence::Open, this, [this] {
        const auto files = QFileDialog::getOpenFileNames(
            this, tr("Open images or sounds"), {},
            tr("Images and sounds (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff *.wav *.flac "
               "*.ogg *.oga *.opus *.mp3 *.m4a *.aac *.aif *.aiff);;Images (*.png *.jpg *.jpeg "
               "*.webp *.bmp *.tif *.tiff);;Sounds (*.wav *.flac *.ogg *.oga *.opus *.mp3 *.m4a "
               "*.aac *.aif *.aiff);;All files (*)"));
        workspace_->addPaths(files);
        showWorkspace();
    });
    file->addAction(tr("Open folder…"), QKeySequence(tr("Ctrl+Shift+O")), this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Open a folder of images"));
        if (!dir.isEmpty()) workspace_->addPaths({dir});
        showWorkspace();
    });
    file->addAction(tr("Paste image"), QKeySequence::Paste, this, &MainWindow::pasteImage);
    file->addAction(tr("Listen live…"), QKeySequence(tr("Ctrl+L")), this,
                    &MainWindow::showLiveListening);
    file->addSeparator();
    file->addAction(tr("Open bundle…"), QKeySequence(tr("Ctrl+B")), this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(
            this, tr("Open an ESPER bundle (a folder with esper.json)"), settings_.modelsDir());
        if (!dir.isEmpty()) openBundle(dir);
    });
    switchModel_ = file->addMenu(tr("Switch model"));
    connect(switchModel_, &QMenu::aboutToShow, this, &MainWindow::fillSwitchModelMenu);
    file->addAction(tr("Models…"), QKeySequence(tr("Ctrl+Shift+M")), this, &MainWindow::showModels);
    file->addSeparator();
    file->addAction(tr("Open dataset for review…"), this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open a dataset"), {},
                                                          tr("Datasets (*.json *.jsonl)"));
        if (!path.isEmpty()) review_->openDataset(path);
        showReview();
    });
    file->addAction(tr("Open review project…"), this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open a review project"), {},
                                                          tr("Review projects (*.esper-review)"));
        if (!path.isEmpty()) review_->openProject(path);
        showReview();
    });
    file->addAction(tr("Save review project as…"), QKeySequence::SaveAs, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save the review project"), {},
                                                          tr("Review projects (*.esper-review)"));
        if (path.isEmpty()) return;
        review_->setProjectPath(path);
        review_->saveNow();
    });
    file->addAction(tr("Export reviewed captions…"), QKeySequence(tr("Ctrl+E")), this,
                    &MainWindow::exportReview);
    file->addSeparator();
    file->addAction(tr("Quit"), QKeySequence::Quit, this, &QWidget::close);

    auto* edit = menuBar()->addMenu(tr("&Edit"));
    auto* undo = undo_->createUndoAction(this, tr("Undo"));
    undo->setShortcut(QKeySequence::Undo);
    auto* redo = undo_->createRedoAction(this, tr("Redo"));
    redo->setShortcuts({QKeySequence(tr("Ctrl+Shift+Z")), QKeySequence::Redo});
    edit->addAction(undo);
    edit->addAction(redo);
    edit->addSeparator();
    edit->addAction(tr("Quality checks…"), this, &MainWindow::editQualityChecks);
    const auto bulkEdit = [this](ReplaceDialog::Mode mode) {
        showReview();
        auto* dialog = new ReplaceDialog(review_, this);
        dialog->setMode(mode);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->open();
    };
    edit->addAction(tr("Find and replace in captions…"), QKeySequence(tr("Ctrl+H")), this,
                    [bulkEdit] { bulkEdit(ReplaceDialog::Mode::Replace); });
    edit->addAction(tr("Add a prefix to captions…"), QKeySequence(tr("Ctrl+Shift+P")), this,
                    [bulkEdit] { bulkEdit(ReplaceDialog::Mode::Prefix); });
    edit->addAction(tr("Add a suffix to captions…"), QKeySequence(tr("Ctrl+Shift+U")), this,
                    [bulkEdit] { bulkEdit(ReplaceDialog::Mode::Suffix); });

    auto* view = menuBar()->addMenu(tr("&View"));
    view->addAction(tr("Captioning workspace"), QKeySequence(tr("Ctrl+1")), this,
                    &MainWindow::showWorkspace);
    view->addAction(tr("Review"), QKeySequence(tr("Ctrl+2")), this, &MainWindow::showReview);
    view->addAction(tr("Training"), QKeySequence(tr("Ctrl+3")), this, &MainWindow::showTraining);
    view->addSeparator();
    view->addAction(tr("Fit image"), QKeySequence(tr("Ctrl+0")), this,
                    [this] { workspace_->preview()->setFit(true); });
    view->addAction(tr("Actual size"), QKeySequence(tr("Ctrl+Alt+0")), this,
                    [this] { workspace_->preview()->setFit(false); });
    view->addAction(tr("Zoom in"), QKeySequence::ZoomIn, this,
                    [this] { workspace_->preview()->zoomBy(1.25); });
    view->addAction(tr("Zoom out"), QKeySequence::ZoomOut, this,
                    [this] { workspace_->preview()->zoomBy(0.8); });
    view->addSeparator();
    auto* appearance = view->addMenu(tr("Appearance"));
    auto* appearances = new QActionGroup(this);
    const Appearance current = appearanceFromName(settings_.appearance());
    for (auto [a, label] :
         {std::pair{Appearance::System, tr("Follow the system")},
          std::pair{Appearance::Light, tr("Light")}, std::pair{Appearance::Dark, tr("Dark")}}) {
        auto* action = appearance->addAction(label, this, [this, a] {
            settings_.setAppearance(appearanceName(a));
            applyAppearance(a);
        });
        action->setCheckable(true);
        action->setChecked(a == current);
        action->setObjectName("appearance-" + appearanceName(a));
        appearances->addAction(action);
    }

    auto* caption = menuBar()->addMenu(tr("&Caption"));
    caption->addAction(tr("Caption all images"), QKeySequence(tr("Ctrl+Shift+A")), this,
                       &MainWindow::captionAll);
    caption->addAction(tr("Cancel caption all"), workspace_, &WorkspaceWidget::cancelCaptionAll);
    caption->addAction(tr("Compare models on this image…"), QKeySequence(tr("Ctrl+K")), this,
                       [this] {
                           const QModelIndex i = review_->table()->currentIndex();
                           const bool inReview = pages_->currentWidget() == review_ && i.isValid();
                           compareModels(inReview ? i.data(ReviewModel::PathRole).toString()
                                                  : workspace_->currentImage());
                       });

    auto* train = menuBar()->addMenu(tr("&Train"));
    train->addAction(tr("New fine-tune…"), QKeySequence(tr("Ctrl+Shift+T")), this,
                     &MainWindow::showTraining);
    train->addAction(tr("Resume the last fine-tune"), training_, &TrainingPage::resume);
    train->addAction(tr("Stop training"), training_->run(), &TrainingRun::stop);

    auto* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("Keyboard shortcuts"), QKeySequence(Qt::Key_F1), this,
                    &MainWindow::showShortcuts);
    auto* question = new QAction(this);
    question->setShortcut(QKeySequence(Qt::Key_Question));
    question->setShortcutContext(Qt::ApplicationShortcut);
    connect(question, &QAction::triggered, this, [this] {
        // "?" types into text fields; it opens the help only elsewhere.
        if (!qobject_cast<QLineEdit*>(QApplication::focusWidget())) showShortcuts();
    });
    addAction(question);

    auto* bar = addToolBar(tr("Main"));
    bar->setObjectName("mainToolbar");
    bar->addAction(tr("Workspace"), this, &MainWindow::showWorkspace);
    bar->addAction(tr("Review"), this, &MainWindow::showReview);
    bar->addAction(tr("Training"), this, &MainWindow::showTraining);
    bar->addSeparator();
    bar->addAction(tr("Caption all"), this, &MainWindow::captionAll);
    bar->addSeparator();
    bar->addWidget(new QLabel(tr(" Device ")));
    bar->addWidget(device_);
}

void MainWindow::openBundle(const QString& dir) {
    bundleName_ = tr("loading…");
    updateStatus();
    engine_->loadBundle(dir, settings_.modelsDir(), device_->currentText());
}

// The shipped bundles, then the recently opened ones; the loaded one is checked. Folder names
// only: nothing is read from disk on the UI thread.
void MainWindow::fillSwitchModelMenu() {
    switchModel_->clear();
    QStringList recent = settings_.recentBundles();
    for (const QString& dir : shippedBundles_)
        recent.removeAll(dir);
    auto add = [this](const QString& dir) {
        QString label = QDir(dir).dirName();
        QAction* a = switchModel_->addAction(label.replace('&', "&&"));
        a->setToolTip(dir);
        a->setStatusTip(dir);
        a->setCheckable(true);
        a->setChecked(QDir(dir) == QDir(bundleDir_));
        connect(a, &QAction::triggered, this, [this, dir] { openBundle(dir); });
    };
    for (const QString& dir : shippedBundles_)
        add(dir);
    if (!shippedBundles_.isEmpty() && !recent.isEmpty()) switchModel_->addSeparator();
    for (const QString& dir : recent)
        add(dir);
    if (switchModel_->isEmpty())
        switchModel_->addAction(tr("No model opened yet: File > Open bundle…"))->setEnabled(false);
}

void MainWindow::showWorkspace() {
    pages_->setCurrentWidget(workspace_);
}
void MainWindow::showReview() {
    pages_->setCurrentWidget(review_);
    review_->table()->setFocus();
}

// Caption all, asking first what to do with images that already have a caption: one a person
// reviewed, or a .txt/.caption sidecar beside the image.
void MainWindow::captionAll() {
    QSet<QString> captioned;
    for (const QString& path : workspace_->gallery()->paths()) {
        const int row = review_->model()->rowOf(path);
        const bool reviewed =
            row >= 0 && review_->model()->item(row).status != ReviewStatus::Unreviewed;
        if (reviewed || hasSidecar(path)) captioned.insert(path);
    }
    replaceOnArrival_.clear();
    if (captioned.isEmpty()) return workspace_->captionAll();
    QMessageBox ask(QMessageBox::Question, tr("Caption all"),
                    tr("%n of the images already have a caption (reviewed, or in a sidecar "
                       "file).",
                       nullptr, int(captioned.size())),
                    QMessageBox::Cancel, this);
    auto* skip = ask.addButton(tr("Skip them"), QMessageBox::AcceptRole);
    auto* both = ask.addButton(tr("Caption them too, keep both"), QMessageBox::ActionRole);
    auto* replace = ask.addButton(tr("Caption them too, replace"), QMessageBox::ActionRole);
    ask.setDefaultButton(skip);
    ask.setInformativeText(tr("Keep both adds the new captions as candidates beside the "
                              "reviewed one; replace makes the new caption the one to review."));
    ask.exec();
    if (ask.clickedButton() == skip) return workspace_->captionAll(captioned);
    if (ask.clickedButton() == replace) replaceOnArrival_ = captioned;
    if (ask.clickedButton() == both || ask.clickedButton() == replace) workspace_->captionAll();
}

void MainWindow::compareModels(const QString& imagePath) {
    if (imagePath.isEmpty()) {
        statusBar()->showMessage(tr("Select an image to compare the models on."), 6000);
        return;
    }
    QStringList bundles;
    auto add = [&bundles](const QString& dir) {
        if (!dir.isEmpty() && QFileInfo::exists(dir + "/esper.json") &&
            !bundles.contains(QDir(dir).canonicalPath()))
            bundles << QDir(dir).canonicalPath();
    };
    add(bundleDir_);
    for (const auto& dir : shippedBundles_)
        add(dir);
    for (const auto& dir : settings_.recentBundles())
        add(dir);
    QStringList styles;
    for (const auto& s : workspace_->styles()->styles())
        styles << s.id;
    auto* view = new CompareView(bundles.mid(0, 4), imagePath, styles, this);
    view->setAttribute(Qt::WA_DeleteOnClose);
    connect(view, &CompareView::chosen, this,
            [this](const QString& image, const QString& bundle, const QString& style,
                   const QString& caption, double clipS) {
                review_->useCaption(image, bundle, style, caption, clipS);
                statusBar()->showMessage(
                    tr("Using %1's %2 caption").arg(QDir(bundle).dirName(), style), 5000);
            });
    view->show();
}

// The review's quality-check thresholds, remembered in the settings.
void MainWindow::editQualityChecks() {
    QualityOptions o = review_->qualityOptions();
    QDialog dialog(this);
    dialog.setWindowTitle(tr("Quality checks"));
    auto* form = new QFormLayout(&dialog);
    auto* words = new QSpinBox;
    words->setRange(0, 100);
    words->setValue(o.minWords);
    auto* repeat = new QSpinBox;
    repeat->setRange(2, 20);
    repeat->setValue(o.repeatedNgramTimes);
    auto* sigmas = new QDoubleSpinBox;
    sigmas->setRange(0.5, 10);
    sigmas->setSingleStep(0.5);
    sigmas->setValue(o.lowClipSSigmas);
    auto* duplicate = new QDoubleSpinBox;
    duplicate->setRange(0.1, 1);
    duplicate->setSingleStep(0.05);
    duplicate->setValue(o.duplicateJaccard);
    form->addRow(tr("Too short: fewer words than"), words);
    form->addRow(tr("Repetition loop: a phrase repeated"), repeat);
    form->addRow(tr("Low CLIP-S: standard deviations below its style's mean"), sigmas);
    form->addRow(tr("Near duplicate: word-trigram overlap with a neighbour from"), duplicate);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    if (dialog.exec() != QDialog::Accepted) return;
    o.minWords = words->value();
    o.repeatedNgramTimes = repeat->value();
    o.lowClipSSigmas = sigmas->value();
    o.duplicateJaccard = duplicate->value();
    settings_.setQualityOptions(o);
    review_->setQualityOptions(o);
}

// Style edits go on the undo stack: each change is recorded against what the last one left.
void MainWindow::connectStyleUndo() {
    stylesBefore_ = workspace_->styles()->styles();
    auto apply = [this](const QVector<StyleSpec>& styles) {
        applyingStyles_ = true;
        workspace_->styles()->setStyles(styles);
        stylesBefore_ = styles;
        emit workspace_->styles()->stylesChanged(); // captions follow, as after any edit
        applyingStyles_ = false;
    };
    connect(workspace_->styles(), &StylePanel::stylesChanged, this, [this, apply] {
        if (applyingStyles_) return;
        const auto now = workspace_->styles()->styles();
        if (sameStyles(now, stylesBefore_)) return;
        undo_->push(new StylesCommand(stylesBefore_, now, apply));
        stylesBefore_ = now;
    });
    // A list set from elsewhere (a bundle's styles, the tests) is the new starting point.
    connect(workspace_->styles(), &StylePanel::stylesReplaced, this, [this] {
        if (!applyingStyles_) stylesBefore_ = workspace_->styles()->styles();
    });
}

void MainWindow::showShortcuts() {
    auto* dialog = new ShortcutsHelp(menuBar(), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->open();
}

void MainWindow::showTraining() {
    pages_->setCurrentWidget(training_);
}

// The Training page's links to the rest of the studio: the workspace's images, the review's
// accepted captions, loading a result and comparing it with the model it started from.
void MainWindow::connectTraining() {
    training_->setModelsDir(settings_.modelsDir());
    training_->workspaceImages = [this] { return workspace_->gallery()->paths(); };
    training_->writeReviewPairs = [this](const QString& path,
                                         std::function<void(const QString&)> done) {
        const auto items = review_->model()->items();
        review_->files()->run<Result<void>>(
            [items, path] { return exportJsonl(items, path, {.onlyReviewed = true}); },
            [done](Result<void> ok) { done(ok ? QString() : QString::fromStdString(ok.error())); });
    };
    connect(training_, &TrainingPage::message, this,
            [this](const QString& m) { statusBar()->showMessage(m, 6000); });
    connect(training_, &TrainingPage::useBundle, this, [this](const QString& dir) {
        openBundle(dir);
        showWorkspace();
    });
    connect(training_, &TrainingPage::compareBundles, this,
            [this](const QString& oldDir, const QString& newDir, const QString& preview) {
                const QString image =
                    !workspace_->currentImage().isEmpty() ? workspace_->currentImage() : preview;
                if (image.isEmpty()) {
                    statusBar()->showMessage(tr("Open an image in the workspace to compare on."),
                                             6000);
                    return;
                }
                QStringList styles;
                for (const auto& s : workspace_->styles()->styles())
                    styles << s.id;
                auto* view = new CompareView({oldDir, newDir}, image, styles, this);
                view->setAttribute(Qt::WA_DeleteOnClose);
                view->show();
            });
    // Training shares the cores with captioning: say so while it runs.
    connect(training_->run(), &TrainingRun::stateChanged, this, [this](TrainingRun::State s) {
        if (s == TrainingRun::State::Running)
            statusBar()->showMessage(
                tr("Training in the background: captioning may be slower until it ends"), 8000);
    });
}

void MainWindow::updateStatus() {
    bundleLabel_->setText(
        tr("Model: %1 · %2")
            .arg(bundleName_, bundleDevice_.isEmpty() ? device_->currentText() : bundleDevice_));
    queueLabel_->setText(tr("queue %1").arg(engine_->queueLength()));
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
    QStringList paths;
    for (const QUrl& url : event->mimeData()->urls())
        if (url.isLocalFile()) paths << url.toLocalFile();
    if (paths.isEmpty()) return;
    event->acceptProposedAction();
    showWorkspace();
    workspace_->addPaths(paths);
}

void MainWindow::pasteImage() {
    const QImage image = QApplication::clipboard()->image();
    if (image.isNull()) {
        statusBar()->showMessage(tr("The clipboard holds no image"), 4000);
        return;
    }
    const QString dir =
        QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/pasted";
    QDir().mkpath(dir);
    const QString path =
        dir + "/pasted-" + QDateTime::currentDateTime().toString("yyyyMMdd-HHmmss-zzz") + ".png";
    if (!image.save(path)) {
        statusBar()->showMessage(tr("Could not store the pasted image in %1").arg(dir), 6000);
        return;
    }
    workspace_->addPaths({path});
    workspace_->selectRow(workspace_->gallery()->indexOf(path));
}

void MainWindow::exportReview() {
    const auto items = review_->model()->items(); // a snapshot; editing goes on meanwhile
    ExportDialog dialog(items, this);
    dialog.setChoices(settings_.exportChoices());
    if (dialog.exec() != QDialog::Accepted) return;
    settings_.setExportChoices(dialog.choices());
    const ExportSelection which = dialog.selection();
    if (dialog.writesSidecars()) {
        const QString extension =
            dialog.format() == ExportDialog::Format::SidecarTxt ? ".txt" : ".caption";
        const auto how = dialog.sidecarPolicy();
        statusBar()->showMessage(tr("Writing sidecars…"));
        review_->files()->run<ExportReport>(
            [items, extension, how, which] { return exportSidecars(items, extension, how, which); },
            [this](ExportReport report) {
                statusBar()->showMessage(tr("Wrote %1 sidecars, skipped %2, %3 errors")
                                             .arg(report.written)
                                             .arg(report.skipped)
                                             .arg(report.errors.size()),
                                         8000);
                if (!report.errors.isEmpty())
                    QMessageBox::warning(this, tr("Export"), report.errors.join("\n"));
            });
        return;
    }
    const bool jsonl = dialog.format() == ExportDialog::Format::Jsonl;
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export to"), {},
        jsonl ? tr("JSON Lines (*.jsonl);;All files (*)") : tr("JSON (*.json);;All files (*)"));
    if (path.isEmpty()) return;
    review_->files()->run<Result<void>>(
        [items, path, jsonl, which, quality = review_->qualityOptions()] {
            return jsonl ? exportJsonl(items, path, which, quality)
                         : exportCoco(items, path, which);
        },
        [this, path](Result<void> result) {
            if (!result)
                QMessageBox::warning(this, tr("Export failed"),
                                     QString::fromStdString(result.error()));
            else
                statusBar()->showMessage(tr("Exported to %1").arg(path), 6000);
        });
}

void MainWindow::showModels() {
    auto* manager = new ModelManager(settings_.modelsDir(), {}, this);
    manager->setAttribute(Qt::WA_DeleteOnClose);
    connect(manager, &ModelManager::modelsDirChanged, this,
            [this](const QString& dir) { settings_.setModelsDir(dir); });
    connect(manager, &ModelManager::bundleCreated, this, [this](const QString& dir) {
        openBundle(dir); // recent bundles remember it for Switch model
        showWorkspace();
    });
    connect(manager, &ModelManager::downloaded, this, [this](const QString& repo, const QString&) {
        statusBar()->showMessage(tr("%1 is downloaded; bundles naming it now find it").arg(repo),
                                 8000);
    });
    manager->show();
}

void MainWindow::recoverFromInternalError(const QString& what) {
    if (recovering_) return; // an error while recovering must not loop
    recovering_ = true;
    if (review_->projectPath().isEmpty() && review_->model()->rowCount() > 0) {
        review_->setProjectPath(newProjectPath("recovered"));
    }
    review_->saveNow();
    review_->finishFileWork();
    settings_.setStyles(workspace_->styles()->styles());
    settings_.setDecoding(workspace_->decoding()->settings());
    const QString saved = review_->projectPath().isEmpty()
                              ? tr("There was no review work to save.")
                              : tr("Your review is saved in %1.").arg(review_->projectPath());
    QMessageBox::critical(this, tr("ESPER Studio ran into an internal error"),
                          tr("Something went wrong inside ESPER Studio: %1\n\n%2 Restarting "
                             "ESPER Studio is the safe next step; if this happens again, please "
                             "report it with this message.")
                              .arg(what, saved));
    recovering_ = false;
}

void MainWindow::closeEvent(QCloseEvent* event) {
    settings_.setWindow(saveGeometry(), saveState());
    settings_.setStyles(workspace_->styles()->styles());
    settings_.setDecoding(workspace_->decoding()->settings());
    review_->saveNow();
    review_->finishFileWork(); // the one wait on files the UI thread makes: nothing is lost at exit
    QMainWindow::closeEvent(event);
}

} // namespace esper::ui
