#include "new_bundle_dialog.h"

#include "model_download.h"
#include "training/training_run.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>

namespace esper::ui {

QStringList NewBundleDialog::installedModels(const QString& modelsDir, const QStringList& types) {
    QStringList out;
    for (const QString& id : hub::localModels(modelsDir)) {
        QFile config(modelsDir + "/" + id + "/config.json");
        if (!config.open(QIODevice::ReadOnly) || config.size() > (1 << 20)) continue;
        const QString type =
            QJsonDocument::fromJson(config.readAll()).object()["model_type"].toString();
        if (types.contains(type)) out << id;
    }
    return out;
}

NewBundleDialog::NewBundleDialog(QString modelsDir, QWidget* parent)
    : QDialog(parent), modelsDir_(std::move(modelsDir)), clip_(new QComboBox), lm_(new QComboBox),
      name_(new QLineEdit), mapper_(new QLineEdit), prefix_(new QSpinBox), status_(new QLabel),
      create_(new QPushButton(tr("Create"))) {
    setWindowTitle(tr("New bundle"));
    setMinimumWidth(520);
    clip_->addItems(installedModels(modelsDir_, {"clip"}));
    lm_->addItems(installedModels(modelsDir_, {"gpt2", "llama"}));
    name_->setPlaceholderText(tr("my-captioner"));
    mapper_->setPlaceholderText(tr("none: a fresh mapper, for ESPER training to start from"));
    prefix_->setRange(1, 64);
    prefix_->setValue(10);
    status_->setWordWrap(true);
    status_->setTextFormat(Qt::PlainText);
    auto* browse = new QPushButton(tr("Choose…"));
    auto* mapperRow = new QWidget;
    auto* mapperLayout = new QHBoxLayout(mapperRow);
    mapperLayout->setContentsMargins(0, 0, 0, 0);
    mapperLayout->addWidget(mapper_, 1);
    mapperLayout->addWidget(browse);
    auto* form = new QFormLayout(this);
    for (const auto& [label, field] : {std::pair<QString, QWidget*>{tr("Name"), name_},
                                       {tr("CLIP model"), clip_},
                                       {tr("Language model"), lm_},
                                       {tr("Mapper (optional)"), mapperRow},
                                       {tr("Prefix length"), prefix_}})
        form->addRow(label, field);
    form->addRow(status_);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    buttons->addButton(create_, QDialogButtonBox::AcceptRole);
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(create_, &QPushButton::clicked, this, &NewBundleDialog::create);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString file = QFileDialog::getOpenFileName(this, tr("A mapper"), modelsDir_,
                                                          tr("Mappers (*.safetensors)"));
        if (!file.isEmpty()) mapper_->setText(file);
    });
    if (clip_->count() == 0 || lm_->count() == 0) {
        status_->setText(tr("A bundle needs a CLIP model and a language model in the models "
                            "folder: download them first (openai/clip-vit-base-patch32, gpt2)."));
        create_->setEnabled(false);
    }
}

void NewBundleDialog::choose(const QString& clip, const QString& lm, const QString& mapper,
                             const QString& name) {
    clip_->setCurrentText(clip);
    lm_->setCurrentText(lm);
    mapper_->setText(mapper);
    if (!name.isEmpty()) name_->setText(name);
}

QString NewBundleDialog::statusText() const {
    return status_->text();
}

void NewBundleDialog::run(const QStringList& args, std::function<void()> next) {
    process_.disconnect(this);
    connect(
        &process_, &QProcess::finished, this, [this, next](int code, QProcess::ExitStatus status) {
            if (status != QProcess::NormalExit || code != 0) {
                const QString why = QString::fromUtf8(process_.readAllStandardError()).trimmed();
                status_->setText(tr("The bundle was not made: %1").arg(why));
                create_->setEnabled(true);
                return;
            }
            next();
        });
    process_.start(TrainingRun::cliPath(), args);
}

void NewBundleDialog::create() {
    const QString name = name_->text().trimmed().isEmpty() ? QStringLiteral("my-captioner")
                                                           : name_->text().trimmed();
    const QString dir = modelsDir_ + "/bundles/" + name;
    if (QFileInfo::exists(dir + "/esper.json")) {
        status_->setText(tr("A bundle named %1 exists already; choose another name.").arg(name));
        return;
    }
    create_->setEnabled(false);
    status_->setText(tr("Making %1…").arg(dir));
    const QString mapper = mapper_->text().trimmed();
    run({"bundle", "create", dir, "--clip", modelsDir_ + "/" + clip_->currentText(), "--lm",
         modelsDir_ + "/" + lm_->currentText(), "--prefix-length",
         QString::number(prefix_->value()), "--name", name},
        [this, dir, mapper] {
            // A given mapper replaces the fresh one; the check below says whether it fits.
            if (!mapper.isEmpty()) {
                QFile::remove(dir + "/mapper.safetensors");
                if (!QFile::copy(mapper, dir + "/mapper.safetensors")) {
                    status_->setText(tr("Could not copy %1 into the bundle.").arg(mapper));
                    create_->setEnabled(true);
                    return;
                }
            }
            run({"bundle", "check", dir}, [this, dir] {
                status_->setText(
                    tr("%1 is ready: it loads, and File → Switch model offers it.").arg(dir));
                create_->setEnabled(true);
                emit created(dir);
            });
        });
}

} // namespace esper::ui
