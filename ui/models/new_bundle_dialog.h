// Models → New bundle…: a bundle from models already here (a CLIP and a language model in the
// models folder or the Hugging Face cache, and optionally a mapper imported or trained
// elsewhere), without the command line. `esper bundle create` makes it in a child process (the
// studio's widgets never run the engine), the mapper is put in place when one is given, and
// `esper bundle check` proves it loads before it is offered.
#pragma once

#include <QDialog>
#include <QProcess>

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;

namespace esper::ui {

class NewBundleDialog final : public QDialog {
    Q_OBJECT

public:
    explicit NewBundleDialog(QString modelsDir, QWidget* parent = nullptr);
    // Fills the form as a person would (tests, and a caller that knows the models).
    void choose(const QString& clip, const QString& lm, const QString& mapper = {},
                const QString& name = {});
    void create();
    QString statusText() const;
    // The installed models of a family ("clip", or the language models' "gpt2"/"llama"): their
    // folders under the models folder.
    static QStringList installedModels(const QString& modelsDir, const QStringList& types);

signals:
    void created(const QString& bundleDir);

private:
    void run(const QStringList& args, std::function<void()> next);
    QString modelsDir_;
    QComboBox *clip_, *lm_;
    QLineEdit *name_, *mapper_;
    QSpinBox* prefix_;
    QLabel* status_;
    QPushButton* create_;
    QProcess process_;
};

} // namespace esper::ui
