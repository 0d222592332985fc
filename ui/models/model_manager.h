// File → Models…: the models ESPER Studio knows (the registry) and those in the models folder,
// where each lives (the models folder, the Hugging Face cache, or not here), the memory each
// needs (memory_estimates.h), and getting one in a click: the memory it needs first, then a
// resumable, verified download with progress and cancel. Any repository can be fetched by name;
// models can be removed or shown in the file manager; PyTorch checkpoints are imported without
// running them; the models folder is a setting.
#pragma once

#include "bundle/checkpoint_import.h"

#include <QDialog>
#include <QPointer>

class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QTableWidget;

namespace esper::ui {

class MemoryEstimates;
class ModelDownloadJob;

class ModelManager final : public QDialog {
    Q_OBJECT

public:
    // `endpoint` empty: $HF_ENDPOINT or the public hub.
    explicit ModelManager(QString modelsDir, QString endpoint = {}, QWidget* parent = nullptr);
    void download(const QString& repo);
    void cancelDownload();
    // Imports a PyTorch checkpoint into MODELS/imported/NAME in the background (imported()).
    // `options`: what the Import button leaves to the importer's defaults.
    void importCheckpointFile(const QString& file, const ImportOptions& options = {});
    bool remove(const QString& repo);
    // "in the models folder", "in the Hugging Face cache", "not downloaded", "downloading…"
    QString statusOf(const QString& repo) const;
    QString statusText() const;
    // The Memory column's text for a model ("…" while it is being found out).
    QString memoryText(const QString& repo) const;
    void refresh();

signals:
    void downloaded(const QString& repo, const QString& dir);
    void modelsDirChanged(const QString& dir);
    void imported(const QString& file, const QString& dir);
    void bundleCreated(const QString& dir);

private:
    QString selectedRepo() const;
    void showMemory(int row, const QString& id);
    QString modelsDir_, endpoint_;
    QTableWidget* table_;
    QLineEdit* repo_;
    QLabel *status_, *folder_;
    QProgressBar* progress_;
    QPushButton *download_, *cancel_, *remove_, *show_;
    QPushButton* openImported_; // shown when an import made a bundle (ClipCap)
    QString importedBundle_;
    QPointer<ModelDownloadJob> job_;
    MemoryEstimates* estimates_;
};

} // namespace esper::ui
