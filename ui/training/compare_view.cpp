#include "compare_view.h"

#include "training_run.h"

#include <QDialogButtonBox>
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

CompareView::CompareView(const QString& oldBundle, const QString& newBundle, const QString& image,
                         const QStringList& styles, QWidget* parent)
    : QDialog(parent), table_(new QTableWidget(styles.size(), 5)), status_(new QLabel),
      styles_(styles) {
    setWindowTitle(tr("Compare: %1").arg(QFileInfo(image).fileName()));
    table_->setHorizontalHeaderLabels({tr("style"), QFileInfo(oldBundle).fileName(), tr("CLIP-S"),
                                       QFileInfo(newBundle).fileName(), tr("CLIP-S")});
    table_->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
    table_->horizontalHeader()->setSectionResizeMode(3, QHeaderView::Stretch);
    table_->verticalHeader()->hide();
    table_->setWordWrap(true);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    for (int r = 0; r < styles.size(); ++r)
        table_->setItem(r, 0, new QTableWidgetItem(styles[r]));
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
    resize(900, 420);
    status_->setText(tr("Captioning with both models…"));
    caption(1, oldBundle, image, styles);
    caption(3, newBundle, image, styles);
}

void CompareView::caption(int column, const QString& bundle, const QString& image,
                          const QStringList& styles) {
    auto* process = new QProcess(this);
    QStringList args{"caption", image, "--bundle", bundle};
    for (const auto& s : styles)
        args << "--style" << s;
    connect(process, &QProcess::finished, this, [this, process, column](int code) {
        const auto lines = process->readAllStandardOutput().split('\n');
        for (const auto& line : lines) {
            const QJsonObject rec = QJsonDocument::fromJson(line).object();
            const int row = int(styles_.indexOf(rec["style"].toString()));
            if (row < 0) continue;
            table_->setItem(row, column, new QTableWidgetItem(rec["caption"].toString()));
            table_->setItem(
                row, column + 1,
                new QTableWidgetItem(QString::number(rec["clip_s"].toDouble(), 'f', 3)));
        }
        if (code != 0)
            status_->setText(QString::fromUtf8(process->readAllStandardError()).trimmed());
        process->deleteLater();
        if (--pending_ == 0) {
            if (code == 0)
                status_->setText(tr("CLIP-S: 2.5 · max(cosine, 0) of image and caption"));
            table_->resizeRowsToContents();
            emit finishedBoth();
        }
    });
    process->start(TrainingRun::cliPath(), args);
}

} // namespace esper::ui
