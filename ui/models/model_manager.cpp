#include "model_manager.h"

#include "memory_estimates.h"
#include "model_download_job.h"
#include "new_bundle_dialog.h"

#include "bundle/checkpoint_import.h"
#include "bundle/hf_cache.h"
#include "bundle/model_registry.h"
#include "hub_client.h"
#include "model_download.h"

#include <QDesktopServices>
#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QTableWidget>
#include <QUrl>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

namespace esper::ui {

namespace {

enum Column {
    IdColumn,
    RoleColumn,
    SizeColumn,
    MemoryColumn,
    LicenceColumn,
    StatusColumn,
    ColumnCount
};

QString sizeText(qint64 bytes) {
    return bytes < 0 ? QString() : QLocale().formattedDataSize(bytes, 1, QLocale::DataSizeSIFormat);
}

} // namespace

ModelManager::ModelManager(QString modelsDir, QString endpoint, QWidget* parent)
    : QDialog(parent), modelsDir_(std::move(modelsDir)), endpoint_(std::move(endpoint)),
      table_(new QTableWidget(0, ColumnCount)), repo_(new QLineEdit), status_(new QLabel),
      folder_(new QLabel), progress_(new QProgressBar), download_(new QPushButton(tr("Download"))),
      cancel_(new QPushButton(tr("Pause"))), remove_(new QPushButton(tr("Remove"))),
      show_(new QPushButton(tr("Show folder"))), estimates_(new MemoryEstimates(endpoint_, this)) {
    setWindowTitle(tr("Models"));
    resize(900, 480);
    table_->setHorizontalHeaderLabels(
        {tr("Model"), tr("Role"), tr("Download size"), tr("Memory"), tr("Licence"), tr("Where")});
    table_->horizontalHeaderItem(MemoryColumn)
        ->setToolTip(tr("The memory the weights take as stored, read from their safetensors "
                        "headers: on disk, or a few kilobytes from the hub"));
    connect(estimates_, &MemoryEstimates::estimated, this, [this](const QString& id, qint64) {
        for (int row = 0; row < table_->rowCount(); ++row)
            if (table_->item(row, IdColumn)->text() == id) showMemory(row, id);
    });
    table_->horizontalHeader()->setSectionResizeMode(IdColumn, QHeaderView::Stretch);
    table_->horizontalHeader()->setSectionResizeMode(StatusColumn, QHeaderView::ResizeToContents);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->verticalHeader()->hide();
    repo_->setPlaceholderText(
        tr("Any model on the hub, e.g. gpt2 or openai/clip-vit-base-patch32"));
    status_->setWordWrap(true);
    status_->setTextFormat(Qt::PlainText);
    progress_->setVisible(false);
    cancel_->setVisible(false);
    auto* change = new QPushButton(tr("Change…"));
    auto* folderRow = new QHBoxLayout;
    folderRow->addWidget(new QLabel(tr("Models folder:")));
    folderRow->addWidget(folder_, 1);
    folderRow->addWidget(change);
    auto* actions = new QHBoxLayout;
    actions->addWidget(repo_, 1);
    actions->addWidget(download_);
    actions->addWidget(cancel_);
    actions->addWidget(remove_);
    actions->addWidget(show_);
    auto* newBundle = new QPushButton(tr("New bundle…"));
    newBundle->setToolTip(tr("A bundle from the CLIP and language model here, without the "
                             "command line"));
    actions->addWidget(newBundle);
    connect(newBundle, &QPushButton::clicked, this, [this] {
        auto* dialog = new NewBundleDialog(modelsDir_, this);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        connect(dialog, &NewBundleDialog::created, this, &ModelManager::bundleCreated);
        dialog->open();
    });
    auto* import = new QPushButton(tr("Import checkpoint…"));
    import->setToolTip(tr("A PyTorch .pt/.ckpt (ClipCap, Lightning, a state dict), read without "
                          "running any of its code"));
    actions->addWidget(import);
    connect(import, &QPushButton::clicked, this, [this] {
        const QString file = QFileDialog::getOpenFileName(
            this, tr("Import a PyTorch checkpoint"), {},
            tr("PyTorch checkpoints (*.pt *.pth *.ckpt *.bin);;All files (*)"));
        if (!file.isEmpty()) importCheckpointFile(file);
    });
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(folderRow);
    layout->addWidget(table_, 1);
    layout->addLayout(actions);
    layout->addWidget(progress_);
    layout->addWidget(status_);
    openImported_ = new QPushButton(tr("Open the imported bundle"));
    openImported_->setVisible(false);
    layout->addWidget(openImported_, 0, Qt::AlignLeft);
    connect(openImported_, &QPushButton::clicked, this, [this] {
        openImported_->setVisible(false);
        emit bundleCreated(importedBundle_);
    });

    connect(table_, &QTableWidget::itemSelectionChanged, this, [this] {
        if (!selectedRepo().isEmpty()) repo_->setText(selectedRepo());
    });
    connect(repo_, &QLineEdit::textChanged, this, [this](const QString& text) {
        download_->setText(statusOf(text.trimmed()).startsWith(tr("partly")) ? tr("Resume")
                                                                             : tr("Download"));
    });
    connect(repo_, &QLineEdit::returnPressed, download_, &QPushButton::click);
    connect(download_, &QPushButton::clicked, this, [this] {
        const QString repo = repo_->text().trimmed();
        if (!repo.isEmpty()) download(repo);
    });
    connect(cancel_, &QPushButton::clicked, this, &ModelManager::cancelDownload);
    connect(remove_, &QPushButton::clicked, this, [this] {
        const QString repo = repo_->text().trimmed();
        if (repo.isEmpty()) return;
        if (QMessageBox::question(this, tr("Remove model"),
                                  tr("Remove %1 from %2?").arg(repo, modelsDir_)) ==
            QMessageBox::Yes)
            remove(repo);
    });
    connect(show_, &QPushButton::clicked, this, [this] {
        const QString repo = repo_->text().trimmed();
        QString dir = modelsDir_ + "/" + repo;
        if (repo.isEmpty() || !QFileInfo::exists(dir))
            dir = QString::fromStdString(findInHfCache(repo.toStdString()));
        if (dir.isEmpty()) dir = modelsDir_;
        QDir().mkpath(dir);
        QDesktopServices::openUrl(QUrl::fromLocalFile(dir));
    });
    connect(change, &QPushButton::clicked, this, [this] {
        const QString dir =
            QFileDialog::getExistingDirectory(this, tr("Where models live"), modelsDir_);
        if (dir.isEmpty()) return;
        modelsDir_ = dir;
        emit modelsDirChanged(dir);
        refresh();
    });
    refresh();
}

QString ModelManager::selectedRepo() const {
    const auto rows = table_->selectionModel()->selectedRows();
    return rows.isEmpty() ? QString() : table_->item(rows.first().row(), IdColumn)->text();
}

QString ModelManager::statusOf(const QString& repo) const {
    if (job_ && job_->running() && job_->repo() == repo) return tr("downloading…");
    const QDir local(modelsDir_ + "/" + repo);
    if (hub::hasUnfinishedDownload(local.path()))
        return tr("partly downloaded (Download resumes it)");
    if (local.exists("config.json")) return tr("in the models folder");
    if (!QString::fromStdString(findInHfCache(repo.toStdString())).isEmpty())
        return tr("in the Hugging Face cache");
    return tr("not downloaded");
}

void ModelManager::showMemory(int row, const QString& id) {
    const qint64 bytes = estimates_->bytes(id);
    auto* item = table_->item(row, MemoryColumn);
    item->setText(bytes >= 0 ? sizeText(bytes) : estimates_->pending(id) ? tr("…") : tr("?"));
    item->setToolTip(bytes >= 0 || estimates_->pending(id)
                         ? QString()
                         : tr("Not known: the hub could not be asked, or the model has no "
                              "safetensors weights. It is shown again when a download starts."));
}

QString ModelManager::memoryText(const QString& repo) const {
    for (int row = 0; row < table_->rowCount(); ++row)
        if (table_->item(row, IdColumn)->text() == repo)
            return table_->item(row, MemoryColumn)->text();
    return {};
}

QString ModelManager::statusText() const {
    return status_->text();
}

void ModelManager::refresh() {
    folder_->setText(modelsDir_);
    // The registry's models, then any other model folder found in the models folder.
    QStringList ids;
    QHash<QString, const RegistryModel*> known;
    for (const auto& m : builtinModelRegistry()) {
        ids << QString::fromStdString(m.id);
        known[ids.last()] = &m;
    }
    for (const QString& id : hub::localModels(modelsDir_))
        if (!ids.contains(id)) ids << id;
    if (job_ && job_->running() && !ids.contains(job_->repo())) ids << job_->repo();
    const QString selected = selectedRepo();
    table_->setRowCount(int(ids.size()));
    for (int row = 0; row < ids.size(); ++row) {
        const RegistryModel* m = known.value(ids[row]);
        qint64 bytes = m ? 0 : -1;
        if (m)
            for (const auto& f : m->files)
                bytes += f.size.value_or(0);
        const QStringList cells = {
            ids[row],  m ? QString::fromStdString(m->role) : QString(),    sizeText(bytes),
            QString(), m ? QString::fromStdString(m->license) : QString(), statusOf(ids[row])};
        for (int c = 0; c < ColumnCount; ++c) {
            auto* item = new QTableWidgetItem(cells[c]);
            if (c == IdColumn && m) item->setToolTip(QString::fromStdString(m->description));
            table_->setItem(row, c, item);
        }
        showMemory(row, ids[row]);
        if (ids[row] == selected) table_->selectRow(row);
    }
    // Models on disk are read from their headers; the others asked of the hub (remembered).
    QList<QPair<QString, QString>> lookups;
    for (const QString& id : ids) {
        if (job_ && job_->running() && job_->repo() == id) continue;
        QString local = modelsDir_ + "/" + id;
        if (!QFileInfo::exists(local + "/config.json") || hub::hasUnfinishedDownload(local))
            local = QString::fromStdString(findInHfCache(id.toStdString()));
        lookups.push_back({id, local});
    }
    estimates_->estimate(lookups);
    const bool busy = job_ && job_->running();
    download_->setEnabled(!busy);
    // A paused (or interrupted) download is resumed, not started again.
    download_->setText(statusOf(repo_->text().trimmed()).startsWith(tr("partly")) ? tr("Resume")
                                                                                  : tr("Download"));
    cancel_->setVisible(busy);
    progress_->setVisible(busy);
}

void ModelManager::download(const QString& repo) {
    if (job_ && job_->running()) return;
    job_ = new ModelDownloadJob(repo, modelsDir_, endpoint_, this);
    status_->setText(tr("%1: looking it up…").arg(repo));
    progress_->setRange(0, 0);
    connect(job_, &ModelDownloadJob::estimated, this, [this, repo](qint64 bytes) {
        estimates_->remember(repo, bytes);
        status_->setText(tr("%1 needs %2 of memory for its weights.").arg(repo, sizeText(bytes)));
    });
    // Speed and time left from this file's bytes since its first report (a resumed file counts
    // only what arrives now).
    auto since = std::make_shared<std::tuple<QString, QElapsedTimer, qint64>>();
    connect(job_, &ModelDownloadJob::progress, this,
            [this, since](const QString& file, qint64 done, qint64 total) {
                auto& [current, clock, first] = *since;
                if (current != file) {
                    current = file;
                    clock.start();
                    first = done;
                }
                progress_->setRange(0, total > 0 ? 1000 : 0);
                if (total > 0) progress_->setValue(int(1000 * done / total));
                const double seconds = clock.elapsed() / 1000.0;
                const double rate = seconds > 0.5 ? (done - first) / seconds : 0;
                QString text = QString("%1  %2 / %3").arg(file, sizeText(done), sizeText(total));
                if (rate > 0) {
                    text += tr(" · %1/s").arg(sizeText(qint64(rate)));
                    if (total > done) text += tr(" · %1 s left").arg(qint64((total - done) / rate));
                }
                progress_->setFormat(text);
                progress_->setTextVisible(true);
            });
    connect(job_, &ModelDownloadJob::finished, this,
            [this, repo](const QString& dir, const QString& converted) {
                status_->setText(tr("%1 is ready in %2.").arg(repo, dir) +
                                 (converted.isEmpty()
                                      ? QString()
                                      : tr(" Its PyTorch checkpoint was converted to safetensors; "
                                           "nothing in it was run.")));
                job_->deleteLater();
                refresh();
                emit downloaded(repo, dir);
            });
    connect(
        job_, &ModelDownloadJob::failed, this, [this, repo](const QString& why, bool cancelled) {
            status_->setText(
                cancelled ? tr("%1: paused. What arrived is kept; Resume continues it.").arg(repo)
                          : tr("%1 could not be downloaded: %2").arg(repo, why));
            job_->deleteLater();
            refresh();
        });
    job_->start();
    refresh();
}

void ModelManager::importCheckpointFile(const QString& file, const ImportOptions& options) {
    const QString out = modelsDir_ + "/imported/" + QFileInfo(file).completeBaseName();
    status_->setText(tr("Importing %1…").arg(file));
    auto* watcher = new QFutureWatcher<Result<ImportReport>>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, file, out] {
        const auto report = watcher->result();
        watcher->deleteLater();
        if (!report) {
            status_->setText(
                tr("%1 was not imported: %2").arg(file, QString::fromStdString(report.error())));
            return;
        }
        QStringList notes;
        for (const auto& n : report->notes)
            notes << QString::fromStdString(n);
        status_->setText(tr("Imported %1 as %2 into %3.\n%4")
                             .arg(file, importKindName(report->kind), out, notes.join("\n")));
        // A ClipCap checkpoint comes out as a whole bundle: one click to caption with it.
        importedBundle_ = out;
        openImported_->setVisible(QFileInfo::exists(out + "/esper.json"));
        refresh();
        emit imported(file, out);
    });
    // Off the UI thread: reading a checkpoint of gigabytes takes seconds.
    watcher->setFuture(QtConcurrent::run([file, out, options] {
        return importCheckpoint(file.toStdString(), out.toStdString(), options);
    }));
}

void ModelManager::cancelDownload() {
    if (job_) job_->cancel();
}

bool ModelManager::remove(const QString& repo) {
    auto removed = hub::removeLocalModel(modelsDir_, repo);
    status_->setText(removed ? tr("Removed %1.").arg(removed.value())
                             : QString::fromStdString(removed.error()));
    refresh();
    return removed.ok();
}

} // namespace esper::ui
