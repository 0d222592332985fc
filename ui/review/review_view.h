// Review mode: the items as a sortable, filterable table, reviewed from the keyboard (arrows
// move, A accept, R reject, E or Enter edit) with every edit undoable, saved to a project file
// atomically and automatically. Files are read and written on a background thread (FileTasks).
#pragma once

#include "file_tasks.h"
#include "quality/caption_quality.h"
#include "review_model.h"

#include <QJsonObject>
#include <QTimer>
#include <QWidget>

#include <functional>

class QComboBox;
class QLabel;
class QLineEdit;
class QSortFilterProxyModel;
class QTableView;
class QUndoStack;
class QPushButton;

namespace esper::ui {

class EngineClient;

class ReviewView final : public QWidget {
    Q_OBJECT

public:
    explicit ReviewView(QUndoStack* undo, QWidget* parent = nullptr);
    ReviewModel* model() const { return model_; }
    QTableView* table() const { return table_; }
    QString projectPath() const { return projectPath_; }
    // Read in the background; `opened` or `openFailed` says how it went.
    void openProject(const QString& path);
    void openDataset(const QString& path);
    void setProjectPath(const QString& path); // where autosave writes
    // Queues a save of the current items; `saveFailed` reports a failure.
    void saveNow();
    // Waits until every queued read and write is done; at shutdown and in tests.
    void finishFileWork() { files_->waitForIdle(); }
    FileTasks* files() const { return files_; }
    // The quality checks' thresholds (settings); the flags are checked again with them.
    void setQualityOptions(const QualityOptions& o);
    const QualityOptions& qualityOptions() const { return qualityOptions_; }
    void selectImage(const QString& imagePath);
    void setStatusOfCurrent(ReviewStatus status);
    void editCurrent();
    // Makes the caption generated in `style` the item's caption (accepted, undoable).
    void useCandidate(int row, const QString& style);
    // Makes `caption`, written by the bundle in folder `bundle` (as Compare offers it), the
    // item's caption, kept among its candidates as "style · bundle name"; accepted, undoable.
    void useCaption(const QString& imagePath, const QString& bundle, const QString& style,
                    const QString& caption, double clipS);
    // Selects the next item (in the table's order) the quality checks flagged; false if none.
    bool nextNeedingReview();

    // Find and replace over the captions of every item, the shown (filtered) ones or the
    // selected ones; regex: `find` is a regular expression and `replace` may use \1.. The
    // changes it would make, and making them as one undoable step (returns how many).
    enum class Scope { All, Shown, Selected };
    struct Replacement {
        QString path, before, after;
    };
    QVector<Replacement> previewReplace(const QString& find, const QString& replace, bool regex,
                                        Scope scope) const;
    int replaceInCaptions(const QString& find, const QString& replace, bool regex, Scope scope);
    // A prefix or suffix added to every caption in scope that does not already have it.
    enum class Affix { Prefix, Suffix };
    QVector<Replacement> previewAffix(const QString& text, Affix where, Scope scope) const;
    int addAffix(const QString& text, Affix where, Scope scope);
    void setFilter(const QString& status, const QString& text);
    // CLIP-S and RefCLIP-S of every item's caption, computed in the background.
    void setEngine(EngineClient* engine);
    void scoreAll();

signals:
    void message(const QString& text);
    void compareRequested(const QString& imagePath);
    void opened(const QString& path);
    void openFailed(const QString& path, const QString& error);
    void saveFailed(const QString& path, const QString& error);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    int currentRow() const;
    QVector<int> rowsIn(Scope scope) const;
    // The caption changes `edit` makes in scope, and making them one undoable step.
    QVector<Replacement> plan(Scope scope,
                              const std::function<QString(const QString&)>& edit) const;
    int apply(const QVector<Replacement>& planned, const QString& description);
    QJsonObject historyJson() const;
    void restoreHistory(const QJsonObject& history);
    void openWith(const QString& path, bool isProject);
    FileTasks* files_;
    ReviewModel* model_;
    QSortFilterProxyModel* proxy_;
    QTableView* table_;
    QComboBox* statusFilter_;
    QLineEdit* search_;
    QLabel* empty_;
    QUndoStack* undo_;
    QString projectPath_;
    QTimer autosave_;
    QTimer quality_;
    QualityOptions qualityOptions_;
    EngineClient* engine_ = nullptr;
    QPushButton* score_;
};

} // namespace esper::ui
