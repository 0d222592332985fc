// The studio's window: the captioning workspace and review mode, the menus and shortcuts, drag
// and drop of images and folders, the bundle and device, and the status bar.
#pragma once

#include "engine/engine_client.h"
#include "settings/studio_settings.h"

#include <QMainWindow>
#include <QSet>

class QComboBox;
class QLabel;
class QMenu;
class QProgressBar;
class QPushButton;
class QStackedWidget;
class QUndoStack;

class QDockWidget;

namespace esper::ui {

class ReviewView;
class TrainingPage;
class WorkspaceWidget;

class MainWindow final : public QMainWindow {
    Q_OBJECT

public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    void openBundle(const QString& dir);
    // Bundles offered in File > Switch model before the recently opened ones.
    void setShippedBundles(const QStringList& dirs) { shippedBundles_ = dirs; }
    QMenu* switchModelMenu() const { return switchModel_; }
    void showWorkspace();
    void showReview();
    void showTraining();
    void showShortcuts();
    // The live listening panel (a dock), made on first use.
    void showLiveListening();
    class LiveListenPanel* liveListening() const {
        return live_;
    }
    // File → Models…: the model manager (downloads, imports, the models folder).
    void showModels();
    void captionAll();
    void editQualityChecks();
    // The last resort for an error that escaped an event handler: the review is saved (to a
    // recovery project when none is open) and the user told where, once.
    void recoverFromInternalError(const QString& what);
    // The Compare grid for one image: every known bundle by the active styles.
    void compareModels(const QString& imagePath);
    WorkspaceWidget* workspace() const { return workspace_; }
    ReviewView* review() const { return review_; }
    TrainingPage* training() const { return training_; }
    EngineClient* engine() const { return engine_; }
    QUndoStack* undoStack() const { return undo_; }

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;
    void closeEvent(QCloseEvent* event) override;

private:
    void buildMenus();
    void pasteImage();
    void exportReview();
    void updateStatus();
    void fillSwitchModelMenu();
    void connectTraining();
    void connectStyleUndo();

    StudioSettings settings_;
    EngineClient* engine_;
    QUndoStack* undo_;
    QStackedWidget* pages_;
    WorkspaceWidget* workspace_;
    class LiveListenPanel* live_ = nullptr;
    QDockWidget* liveDock_ = nullptr;
    ReviewView* review_;
    TrainingPage* training_;
    bool recovering_ = false;
    QComboBox* device_;
    QLabel *bundleLabel_, *latencyLabel_, *queueLabel_;
    QProgressBar* progress_;
    QPushButton* cancelAll_;
    QPushButton* modelsHint_; // shown while the shipped demo model is loaded
    QString bundleName_ = tr("no model");
    QString bundleDevice_; // where the loaded bundle runs, with a precision it chose itself
    QString bundleDir_;
    QStringList shippedBundles_;
    QMenu* switchModel_ = nullptr;
    QVector<StyleSpec> stylesBefore_; // what the last style step left
    bool applyingStyles_ = false;     // an undo or redo is showing styles
    QSet<QString> replaceOnArrival_;  // Caption all replaces these images' reviewed captions
};

} // namespace esper::ui
