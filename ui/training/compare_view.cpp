#include "compare_view.h"

#include "training_run.h"

#include <QDialogButtonBox>
#include <QDir>
#include <QFileInfo>
#include <QHeaderView>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QPixmap>
#include <QProcess>
#include <QTableWidget>
#include <QVBoxLayout>

namespace esper::ui {

namespace {
enum Roles { CaptionRole = Qt::UserRole + 1, ScoreRole };
}

CompareView::CompareView(const QStringList& bundles, const QString& image,
                         const QStringList& styles, QWidget* parent)
    : QDialog(parent), table_(new QTableWidget(int(styles.size()), int(bundles.size()))),
      status_(new QLabel), image_(image), bundles_(bundles), styles_(styles) {
    setWindowTitle(tr("Compare: %1").arg(QFileInfo(image).fileName()));
    QStringList names;
    for (const auto& b : bundles)
        names << QDir(b).dirName();
    table_->setHorizontalHeaderLabels(names);
    table_->setVerticalHeaderLabels(styles);
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    table_->setWordWrap(true);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->setToolTip(tr("Double-click a caption to use it"));
    connect(table_, &QTableWidget::cellActivated, this, [this](int row, int column) {
        const auto* cell = table_->item(row, column);
        if (!cell || cell->data(CaptionRole).toString().isEmpty()) return;
        emit chosen(image_, bundles_[column], styles_[row], cell->data(CaptionRole).toString(),
                    cell->data(ScoreRole).toDouble());
    });
    auto* picture = new QLabel;
    picture->setPixmap(
        QPixmap(image).scaled(160, 160, Qt::KeepAspectRatio, Qt::SmoothTransformation));
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(picture, 0, Qt::AlignHCenter);
    layout->addWidget(table_, 1);
    layout->addWidget(status_);
    layout->addWidget(buttons);
    resize(std::max(700, 320 * int(bundles.size())), 460);
    status_->setText(tr("Captioning with %n model(s)…", nullptr, int(bundles.size())));
    pending_ = int(bundles.size());
    for (int c = 0; c < bundles.size(); ++c)
        caption(c, bundles[c]);
}

void CompareView::caption(int column, const QString& bundle) {
    auto* process = new QProcess(this);
    QStringList args{"caption", image_, "--bundle", bundle};
    for (const auto& s : styles_)
        args << "--style" << s;
    connect(process, &QProcess::finished, this, [this, process, column](int code) {
        for (const auto& line : process->readAllStandardOutput().split('\n')) {
            const QJsonObject rec = QJsonDocument::fromJson(line).object();
            const int row = int(styles_.indexOf(rec["style"].toString()));
            if (row < 0) continue;
            const QString text = rec["caption"].toString();
            const double score = rec["clip_s"].toDouble();
            auto* cell =
                new QTableWidgetItem(QString("%1\nCLIP-S %2").arg(text).arg(score, 0, 'f', 3));
            cell->setData(CaptionRole, text);
            cell->setData(ScoreRole, score);
            table_->setItem(row, column, cell);
        }
        if (code != 0)
            status_->setText(QDir(bundles_[column]).dirName() + ": " +
                             QString::fromUtf8(process->readAllStandardError()).trimmed());
        process->deleteLater();
        if (--pending_ == 0) {
            if (code == 0)
                status_->setText(
                    tr("CLIP-S: 2.5 · max(cosine, 0) of image and caption, by each model's CLIP"));
            table_->resizeRowsToContents();
            emit finishedAll();
        }
    });
    process->start(TrainingRun::cliPath(), args);
}

} // namespace esper::ui
