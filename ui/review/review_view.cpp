#include "review_view.h"

#include "review_commands.h"
#include "review_io.h"
#include "review_quality.h"

#include "engine/engine_client.h"

#include <QComboBox>
#include <QDir>
#include <QFileInfo>
#include <QHeaderView>
#include <QJsonArray>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPushButton>
#include <QRegularExpression>
#include <QSortFilterProxyModel>
#include <QStringMatcher>
#include <QTableView>
#include <QUndoStack>
#include <QVBoxLayout>

namespace esper::ui {

namespace {
const QString kNeedsReview = QStringLiteral("needs review");

// Filters by status (or "needs review": flagged by the quality checks) and by text in the
// caption or references.
class ReviewFilter final : public QSortFilterProxyModel {
public:
    QString status, text;
    // A full re-map, not invalidateFilter(): that one tells the view of every removed range
    // one by one, which with 100,000 rows took 70-370 ms against 16-19 ms for this.
    void refresh() { invalidate(); }

protected:
    bool filterAcceptsRow(int row, const QModelIndex&) const override {
        const auto* m = static_cast<ReviewModel*>(sourceModel());
        const ReviewItem& it = m->item(row);
        if (status == kNeedsReview) {
            if (!m->flagged(row)) return false;
        } else if (!status.isEmpty() && statusName(it.status) != status) {
            return false;
        }
        if (text.isEmpty()) return true;
        // One matcher per search, not a case-folded copy of every caption (100,000 items).
        if (matcher.pattern() != text) matcher = QStringMatcher(text, Qt::CaseInsensitive);
        auto found = [this](const QString& s) { return matcher.indexIn(s) >= 0; };
        return found(it.caption) || found(it.imagePath) ||
               std::any_of(it.references.begin(), it.references.end(), found) || found(it.source);
    }
    mutable QStringMatcher matcher;

protected:
    // The common columns compared on the items themselves: no QVariant per comparison, which
    // is what sorting 100,000 rows spends its time on otherwise.
    bool lessThan(const QModelIndex& left, const QModelIndex& right) const override {
        const auto* m = static_cast<ReviewModel*>(sourceModel());
        const ReviewItem &a = m->item(left.row()), &b = m->item(right.row());
        switch (left.column()) {
        case ReviewModel::ImageColumn:
            return a.imagePath < b.imagePath;
        case ReviewModel::ScoreColumn:
            return a.clipS < b.clipS;
        case ReviewModel::RefScoreColumn:
            return a.refClipS < b.refClipS;
        case ReviewModel::StatusColumn:
            return a.status < b.status;
        default:
            return QSortFilterProxyModel::lessThan(left, right);
        }
    }
};
} // namespace

ReviewView::ReviewView(QUndoStack* undo, QWidget* parent)
    : QWidget(parent), model_(new ReviewModel(this)), proxy_(new ReviewFilter),
      table_(new QTableView), statusFilter_(new QComboBox), search_(new QLineEdit),
      empty_(new QLabel), undo_(undo), score_(new QPushButton(tr("Score with CLIP"))) {
    files_ = new FileTasks(this);
    proxy_->setParent(this);
    proxy_->setSourceModel(model_);
    proxy_->setSortRole(ReviewModel::SortRole);
    table_->setModel(proxy_);
    table_->setSortingEnabled(true);
    table_->sortByColumn(ReviewModel::ImageColumn, Qt::AscendingOrder);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::ExtendedSelection);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers); // E / Enter start editing
    table_->setWordWrap(true);
    table_->horizontalHeader()->setSectionResizeMode(ReviewModel::CaptionColumn,
                                                     QHeaderView::Stretch);
    table_->horizontalHeader()->setSectionResizeMode(ReviewModel::ReferenceColumn,
                                                     QHeaderView::Stretch);
    table_->horizontalHeader()->setSectionResizeMode(ReviewModel::GeneratedColumn,
                                                     QHeaderView::Stretch);
    table_->verticalHeader()->setDefaultSectionSize(56); // room for the thumbnail
    // Uniform rows: the header keeps no per-row state, so 100,000 rows sort and filter fast.
    table_->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    // The flags beside the status: what to look at first.
    table_->horizontalHeader()->moveSection(ReviewModel::FlagsColumn,
                                            ReviewModel::StatusColumn + 1);
    table_->setIconSize({48, 48});
    table_->installEventFilter(this);
    // Right-click: the item's candidates, one per style, and the review actions.
    table_->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(table_, &QWidget::customContextMenuRequested, this, [this](const QPoint& at) {
        const QModelIndex i = table_->indexAt(at);
        if (!i.isValid()) return;
        const int row = proxy_->mapToSource(i).row();
        const ReviewItem& it = model_->item(row);
        QMenu menu(this);
        for (auto g = it.generated.begin(); g != it.generated.end(); ++g) {
            const double score = it.scores.value(g.key(), -1);
            QString label =
                score < 0 ? tr("Use %1: %2").arg(g.key(), g.value())
                          : tr("Use %1 (%2): %3").arg(g.key()).arg(score, 0, 'f', 2).arg(g.value());
            if (label.size() > 90) label = label.left(87) + "…";
            menu.addAction(label, this, [this, row, style = g.key()] { useCandidate(row, style); });
        }
        if (!menu.isEmpty()) menu.addSeparator();
        menu.addAction(tr("Accept\tA"), this,
                       [this] { setStatusOfCurrent(ReviewStatus::Accepted); });
        menu.addAction(tr("Reject\tR"), this,
                       [this] { setStatusOfCurrent(ReviewStatus::Rejected); });
        menu.addAction(tr("Edit\tE"), this, &ReviewView::editCurrent);
        menu.addSeparator();
        menu.addAction(tr("Compare models on this image…"), this,
                       [this, path = it.imagePath] { emit compareRequested(path); });
        menu.exec(table_->viewport()->mapToGlobal(at));
    });
    statusFilter_->addItems(
        {tr("All"), "unreviewed", "accepted", "edited", "rejected", kNeedsReview});
    statusFilter_->setToolTip(
        tr("\"needs review\": captions the quality checks flagged (N jumps to "
           "the next one)"));
    search_->setPlaceholderText(tr("Search captions, references, file names"));
    search_->setClearButtonEnabled(true);
    empty_->setText(tr("<h3>Nothing to review yet</h3>Accept captions in the workspace, or open a "
                       "folder, COCO captions JSON, Karpathy file, ESP JSON or JSONL with "
                       "<b>File → Open dataset for review…</b>"));
    empty_->setAlignment(Qt::AlignCenter);
    empty_->setWordWrap(true);
    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Show")));
    bar->addWidget(statusFilter_);
    bar->addWidget(search_, 1);
    bar->addWidget(score_);
    score_->setToolTip(tr("CLIP-S of each caption and, with references, RefCLIP-S"));
    score_->setEnabled(false);
    connect(score_, &QPushButton::clicked, this, &ReviewView::scoreAll);
    bar->addWidget(new QLabel(tr("A accept · R reject · E edit · N next to review · Ctrl+Z undo")));
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(empty_, 1);
    layout->addWidget(table_, 1);
    auto updateEmpty = [this] {
        empty_->setVisible(model_->rowCount() == 0);
        table_->setVisible(model_->rowCount() > 0);
    };
    updateEmpty();
    connect(model_, &QAbstractItemModel::rowsInserted, this, updateEmpty);
    connect(model_, &QAbstractItemModel::modelReset, this, updateEmpty);
    auto applyFilter = [this] {
        setFilter(statusFilter_->currentIndex() == 0 ? QString() : statusFilter_->currentText(),
                  search_->text());
    };
    connect(statusFilter_, &QComboBox::currentIndexChanged, this, applyFilter);
    connect(search_, &QLineEdit::textChanged, this, applyFilter);
    // Edits made in the table go through the undo stack.
    connect(model_, &ReviewModel::editRequested, this, [this](int row, const QString& text) {
        if (text != model_->item(row).caption)
            undo_->push(BulkEditCommand::editCaption(model_, row, text));
    });
    autosave_.setSingleShot(true);
    autosave_.setInterval(1500);
    connect(model_, &ReviewModel::modified, this, [this] {
        if (!projectPath_.isEmpty()) autosave_.start();
    });
    connect(&autosave_, &QTimer::timeout, this, &ReviewView::saveNow);
    // The quality checks run on the file thread, shortly after the items stop changing.
    quality_.setSingleShot(true);
    quality_.setInterval(300);
    connect(model_, &ReviewModel::modified, &quality_, qOverload<>(&QTimer::start));
    connect(&quality_, &QTimer::timeout, this, [this] {
        files_->run<ReviewQuality>(
            [items = model_->items(), options = qualityOptions_] {
                return qualityOf(items, options);
            },
            [this](ReviewQuality q) {
                model_->setQuality(q.flags, q.reasons);
                // Only "needs review" shows rows by their flags; the column updates itself.
                auto* f = static_cast<ReviewFilter*>(proxy_);
                if (f->status == kNeedsReview) f->refresh();
            });
    });
    connect(this, &ReviewView::saveFailed, this, [this](const QString& path, const QString& error) {
        emit message(tr("Saving %1 failed: %2").arg(path, error));
    });
}

void ReviewView::setEngine(EngineClient* engine) {
    engine_ = engine;
    connect(engine_, &EngineClient::bundleLoaded, this,
            [this](const BundleInfo& info) { score_->setEnabled(info.ok); });
    connect(engine_, &EngineClient::scoreFinished, this, [this](quint64, const ScoreOutcome& o) {
        const int row = model_->rowOf(o.imagePath);
        if (row < 0) return;
        if (!o.error.isEmpty() || o.clipS.isEmpty()) {
            emit message(tr("Could not score %1: %2").arg(o.imagePath, o.error));
            return;
        }
        model_->setScores(row, o.clipS[0], o.refClipS.isEmpty() ? -1 : o.refClipS[0]);
    });
}

void ReviewView::scoreAll() {
    if (!engine_ || !engine_->bundleReady()) return;
    for (const auto& it : model_->items())
        if (it.error.isEmpty() && !it.caption.isEmpty())
            engine_->scoreInBackground(it.imagePath, {it.caption}, it.references);
}

void ReviewView::selectImage(const QString& imagePath) {
    const int row = model_->rowOf(imagePath);
    if (row < 0) return;
    table_->setCurrentIndex(proxy_->mapFromSource(model_->index(row, ReviewModel::ImageColumn)));
}

void ReviewView::setFilter(const QString& status, const QString& text) {
    auto* f = static_cast<ReviewFilter*>(proxy_);
    f->status = status;
    f->text = text;
    f->refresh();
}

bool ReviewView::nextNeedingReview() {
    const int rows = proxy_->rowCount();
    const int from = table_->currentIndex().isValid() ? table_->currentIndex().row() : -1;
    for (int k = 1; k <= rows; ++k) {
        const QModelIndex i = proxy_->index((from + k) % rows, ReviewModel::CaptionColumn);
        if (model_->flagged(proxy_->mapToSource(i).row())) {
            table_->setCurrentIndex(i);
            return true;
        }
    }
    emit message(tr("Nothing needs review"));
    return false;
}

int ReviewView::currentRow() const {
    const QModelIndex i = table_->currentIndex();
    return i.isValid() ? proxy_->mapToSource(i).row() : -1;
}

void ReviewView::setStatusOfCurrent(ReviewStatus status) {
    // Several selected rows change as one undoable step.
    const QVector<int> rows = rowsIn(Scope::Selected);
    if (rows.size() > 1) {
        QVector<BulkEditCommand::Change> changes;
        for (int row : rows)
            if (model_->item(row).status != status)
                changes.push_back({model_->item(row).imagePath, {}, status, false});
        if (!changes.isEmpty())
            undo_->push(new BulkEditCommand(
                model_, changes,
                tr("%1 %n item(s)", nullptr, int(changes.size())).arg(statusName(status))));
        return;
    }
    const int row = currentRow();
    if (row < 0 || model_->item(row).status == status) return;
    undo_->push(BulkEditCommand::setStatus(model_, row, status));
}

void ReviewView::setQualityOptions(const QualityOptions& o) {
    qualityOptions_ = o;
    quality_.start();
}

void ReviewView::useCandidate(int row, const QString& style) {
    const ReviewItem& it = model_->item(row);
    if (!it.generated.contains(style)) return;
    const QString source =
        it.source.contains(" · ") ? it.source.section(" · ", 0, 0) + " · " + style : style;
    undo_->push(new BulkEditCommand(
        model_,
        {{it.imagePath, it.generated[style], ReviewStatus::Accepted, true, source,
          it.scores.value(style, -1)}},
        tr("use the %1 caption of %2").arg(style, QFileInfo(it.imagePath).fileName())));
}

void ReviewView::useCaption(const QString& imagePath, const QString& bundle, const QString& style,
                            const QString& caption, double clipS) {
    const QString model = QDir(bundle).dirName();
    const int row = model_->addGenerated(imagePath, style + " · " + model, caption, clipS, model);
    undo_->push(new BulkEditCommand(
        model_, {{imagePath, caption, ReviewStatus::Accepted, true, model + " · " + style, clipS}},
        tr("use %1's %2 caption of %3").arg(model, style, QFileInfo(imagePath).fileName())));
    selectImage(model_->item(row).imagePath);
}

QVector<int> ReviewView::rowsIn(Scope scope) const {
    QVector<int> rows;
    if (scope == Scope::All) {
        for (int i = 0; i < model_->rowCount(); ++i)
            rows << i;
    } else if (scope == Scope::Shown) {
        for (int i = 0; i < proxy_->rowCount(); ++i)
            rows << proxy_->mapToSource(proxy_->index(i, 0)).row();
    } else {
        for (const QModelIndex& i : table_->selectionModel()->selectedRows())
            rows << proxy_->mapToSource(i).row();
    }
    return rows;
}

QVector<ReviewView::Replacement>
ReviewView::plan(Scope scope, const std::function<QString(const QString&)>& edit) const {
    QVector<Replacement> out;
    for (int row : rowsIn(scope)) {
        const ReviewItem& it = model_->item(row);
        if (!it.error.isEmpty()) continue;
        const QString after = edit(it.caption);
        if (after != it.caption) out.push_back({it.imagePath, it.caption, after});
    }
    return out;
}

int ReviewView::apply(const QVector<Replacement>& planned, const QString& description) {
    if (planned.isEmpty()) return 0;
    QVector<BulkEditCommand::Change> changes;
    for (const auto& r : planned)
        changes.push_back({r.path, r.after, ReviewStatus::Edited, true, "human", -1});
    undo_->push(new BulkEditCommand(model_, changes, description));
    return int(changes.size());
}

QVector<ReviewView::Replacement> ReviewView::previewReplace(const QString& find,
                                                            const QString& replace, bool regex,
                                                            Scope scope) const {
    if (find.isEmpty()) return {};
    const QRegularExpression pattern(regex ? find : QString());
    if (regex && !pattern.isValid()) return {};
    return plan(scope, [&](QString caption) {
        if (regex)
            caption.replace(pattern, replace);
        else
            caption.replace(find, replace); // literally: no pattern, no back-references
        return caption;
    });
}

int ReviewView::replaceInCaptions(const QString& find, const QString& replace, bool regex,
                                  Scope scope) {
    const auto planned = previewReplace(find, replace, regex, scope);
    return apply(planned,
                 tr("replace '%1' with '%2' in %n caption(s)", nullptr, int(planned.size()))
                     .arg(find, replace));
}

QVector<ReviewView::Replacement> ReviewView::previewAffix(const QString& text, Affix where,
                                                          Scope scope) const {
    if (text.isEmpty()) return {};
    // Captions that have it already are left alone, so applying it twice adds it once.
    return plan(scope, [&](const QString& caption) {
        if (where == Affix::Prefix) return caption.startsWith(text) ? caption : text + caption;
        return caption.endsWith(text) ? caption : caption + text;
    });
}

int ReviewView::addAffix(const QString& text, Affix where, Scope scope) {
    const auto planned = previewAffix(text, where, scope);
    return apply(planned,
                 (where == Affix::Prefix
                      ? tr("add the prefix '%1' to %n caption(s)", nullptr, int(planned.size()))
                      : tr("add the suffix '%1' to %n caption(s)", nullptr, int(planned.size())))
                     .arg(text));
}

void ReviewView::editCurrent() {
    const QModelIndex i = table_->currentIndex();
    if (!i.isValid()) return;
    const QModelIndex cell = proxy_->index(i.row(), ReviewModel::CaptionColumn);
    table_->setCurrentIndex(cell);
    table_->edit(cell);
}

bool ReviewView::eventFilter(QObject* watched, QEvent* event) {
    // While a caption is being edited, keys go to the editor, not to the table.
    if (watched == table_ && event->type() == QEvent::KeyPress) {
        auto* key = static_cast<QKeyEvent*>(event);
        if (key->modifiers() & (Qt::ControlModifier | Qt::AltModifier)) return false;
        switch (key->key()) {
        case Qt::Key_A:
            setStatusOfCurrent(ReviewStatus::Accepted);
            return true;
        case Qt::Key_R:
            setStatusOfCurrent(ReviewStatus::Rejected);
            return true;
        case Qt::Key_N:
            nextNeedingReview();
            return true;
        case Qt::Key_E:
        case Qt::Key_Return:
        case Qt::Key_Enter:
            editCurrent();
            return true;
        default:
            break;
        }
    }
    return QWidget::eventFilter(watched, event);
}

void ReviewView::setProjectPath(const QString& path) {
    projectPath_ = path;
}

void ReviewView::saveNow() {
    if (projectPath_.isEmpty()) return;
    autosave_.stop();
    const QString path = projectPath_;
    // The items are implicitly shared: the copy is cheap, and later edits do not touch it.
    files_->run<Result<void>>(
        [path, items = model_->items(), history = historyJson()] {
            return saveProject(path, items, history);
        },
        [this, path](Result<void> ok) {
            if (!ok) emit saveFailed(path, QString::fromStdString(ok.error()));
        });
}

void ReviewView::openProject(const QString& path) {
    openWith(path, true);
}

void ReviewView::openDataset(const QString& path) {
    openWith(path, false);
}

void ReviewView::openWith(const QString& path, bool isProject) {
    emit message(tr("Opening %1…").arg(path));
    files_->run<Result<std::pair<ReviewProject, QHash<QString, int>>>>(
        [path, isProject]() -> Result<std::pair<ReviewProject, QHash<QString, int>>> {
            ReviewProject project;
            if (isProject) {
                auto read = readProject(path);
                ESPER_TRY(read);
                project = std::move(read.value());
            } else {
                auto items = importDataset(path);
                ESPER_TRY(items);
                project.items = std::move(items.value());
            }
            // The model's path index, made here rather than on the UI thread.
            auto index = ReviewModel::buildIndex(project.items);
            return std::pair{std::move(project), std::move(index)};
        },
        [this, path, isProject](Result<std::pair<ReviewProject, QHash<QString, int>>> loaded) {
            if (!loaded) {
                emit openFailed(path, QString::fromStdString(loaded.error()));
                return;
            }
            undo_->clear();
            if (isProject) projectPath_ = path;
            model_->setItems(loaded->first.items, loaded->second);
            restoreHistory(loaded->first.history);
            autosave_.stop(); // just loaded: nothing new to save
            emit opened(path);
        });
}

// The review's undo steps (not the workspace's style steps on the same stack), the last 500.
QJsonObject ReviewView::historyJson() const {
    QJsonArray steps;
    int done = 0;
    for (int i = 0; i < undo_->count(); ++i)
        if (const auto* c = dynamic_cast<const BulkEditCommand*>(undo_->command(i))) {
            steps.append(c->toJson());
            done += i < undo_->index();
        }
    constexpr int kKept = 500;
    QJsonArray kept;
    const int from = std::max(0, int(steps.size()) - kKept);
    for (int i = from; i < steps.size(); ++i)
        kept.append(steps[i]);
    return {{"steps", kept}, {"done", std::max(0, done - from)}};
}

void ReviewView::restoreHistory(const QJsonObject& history) {
    const QJsonArray steps = history["steps"].toArray();
    const int done = history["done"].toInt();
    for (const auto& step : steps)
        if (auto* c = BulkEditCommand::fromJson(model_, step.toObject())) undo_->push(c);
    // Steps that had been undone when the project was saved are redo-able again; undoing them
    // here changes nothing, as the saved items are their "before".
    while (undo_->index() > done)
        undo_->undo();
}

} // namespace esper::ui
