// esper-studio: the desktop app. Opens the last bundle (or the demo bundle) and any images or
// folders given on the command line.
//   esper-studio [IMAGES|SOUNDS|FOLDERS|PROJECT.esper-review|BUNDLE/esper.json...]
//                [--bundle DIR] [--dataset FILE] [--review]
//                [--project FILE] [--caption-all] [--screenshot FILE]
// --screenshot waits until captions are in, saves the window to FILE and quits (for docs).
#include "blas_tuning.h"
#include "default_bundle.h"
#include "main_window.h"
#include "models/runtime.h"
#include "review/review_view.h"
#include "settings/studio_settings.h"
#include "studio_application.h"
#include "workspace/workspace_widget.h"

#include <QCommandLineParser>
#include <QFileInfo>
#include <QIcon>
#include <QTimer>
#include <cstring>

namespace {

struct Options {
    QCommandLineOption bundle{"bundle", "The ESPER bundle to load", "dir"};
    QCommandLineOption review{"review", "Start in review mode"};
    QCommandLineOption dataset{
        "dataset", "Open a dataset (COCO, Karpathy, ESP, JSONL, folder) for review", "file"};
    QCommandLineOption project{
        "project", "The review project to open, or to create and save into as captions arrive",
        "file"};
    QCommandLineOption captionAll{
        "caption-all", "Caption every image given once the model (and project) are loaded"};
    QCommandLineOption screenshot{
        "screenshot", "Save the window to FILE once captions are in, then quit", "file"};
};

void describe(QCommandLineParser& cli, const Options& o) {
    cli.setApplicationDescription("ESPER Studio: style-prompted image captions with CLIP scores");
    cli.addHelpOption();
    cli.addVersionOption();
    cli.addPositionalArgument("images", "Images, sounds or folders to open");
    cli.addOptions({o.bundle, o.review, o.dataset, o.project, o.captionAll, o.screenshot});
}

void nameApplication() {
    QCoreApplication::setApplicationName("ESPER Studio");
    QCoreApplication::setOrganizationName("ESPER Studio");
    QCoreApplication::setApplicationVersion(ESPER_STUDIO_VERSION);
}

// --help and --version are answered without a display: a QCoreApplication is enough, and a
// QApplication would abort on a machine with none.
bool asksForHelpOrVersion(int argc, char** argv) {
    for (int i = 1; i < argc; ++i)
        for (const char* flag : {"-h", "--help", "-?", "--help-all", "-v", "--version"})
            if (!std::strcmp(argv[i], flag)) return true;
    return false;
}

} // namespace

int main(int argc, char** argv) {
    if (asksForHelpOrVersion(argc, argv)) {
        QCoreApplication core(argc, argv);
        nameApplication();
        QCommandLineParser cli;
        Options options;
        describe(cli, options);
        cli.process(core); // prints and exits
        return 0;
    }
    esper::ensureBlasCoreType(argv);
    esper::configureRuntime();
    esper::ui::StudioApplication app(argc, argv);
    nameApplication();
    QCommandLineParser cli;
    Options opt;
    describe(cli, opt);
    cli.process(app);

    QApplication::setWindowIcon(QIcon::fromTheme("esper-studio"));
    esper::ui::MainWindow window;
    app.onInternalError = [&window](const QString& what) { window.recoverFromInternalError(what); };
    QStringList shipped;
    for (const auto& dir : esper::shippedBundleDirs())
        shipped << QString::fromStdString(dir);
    window.setShippedBundles(shipped);
    const QString last = esper::ui::StudioSettings().lastBundle();
    QString bundle = cli.value(opt.bundle);
    if (bundle.isEmpty())
        bundle = !last.isEmpty() ? last : QString::fromStdString(esper::defaultBundleDir());
    // What a file manager hands over on a double-click: a review project opens in review, a
    // bundle's esper.json (or its folder) loads that model; anything else is media.
    QStringList media;
    QString projectArg;
    for (const QString& arg : cli.positionalArguments()) {
        const QFileInfo info(arg);
        if (info.suffix() == "esper-review")
            projectArg = arg;
        else if (info.fileName() == "esper.json")
            bundle = info.absolutePath();
        else if (info.isDir() && QFileInfo::exists(info.filePath() + "/esper.json"))
            bundle = info.absoluteFilePath();
        else
            media << arg;
    }
    if (!bundle.isEmpty()) window.openBundle(bundle);
    if (!media.isEmpty()) window.workspace()->addPaths(media);
    if (cli.isSet(opt.dataset)) {
        window.review()->openDataset(cli.value(opt.dataset));
        window.showReview();
    }
    // Caption all starts once the model is loaded and the project (if one is being opened) is
    // open: captions that arrived before would be replaced by the project's items on opening.
    bool projectReady = true, modelReady = false;
    auto startWhenReady = [&window, &projectReady, &modelReady, all = cli.isSet(opt.captionAll)] {
        if (all && projectReady && modelReady) window.captionAll();
    };
    if (cli.isSet(opt.project) || !projectArg.isEmpty()) {
        const QString project = cli.isSet(opt.project) ? cli.value(opt.project) : projectArg;
        if (!projectArg.isEmpty()) window.showReview();
        if (QFileInfo::exists(project)) {
            projectReady = false;
            QObject::connect(window.review(), &esper::ui::ReviewView::opened, &window,
                             [&projectReady, startWhenReady](const QString&) {
                                 projectReady = true;
                                 startWhenReady();
                             });
            window.review()->openProject(project);
        } else {
            window.review()->setProjectPath(project);
        }
    }
    QObject::connect(window.engine(), &esper::ui::EngineClient::bundleLoaded, &window,
                     [&modelReady, startWhenReady](const esper::ui::BundleInfo& info) {
                         modelReady = info.ok;
                         startWhenReady();
                     });
    if (cli.isSet(opt.review)) window.showReview();
    window.show();
    if (cli.isSet(opt.screenshot)) {
        const QString file = cli.value(opt.screenshot);
        auto shoot = [&window, file] {
            window.grab().save(file);
            QApplication::quit();
        };
        // Captions finish (or fail) well within this for the demo; the timer is the fallback.
        QObject::connect(window.engine(), &esper::ui::EngineClient::captionFinished, &window,
                         [shoot] { QTimer::singleShot(300, shoot); });
        QTimer::singleShot(window.workspace()->currentImage().isEmpty() ? 1500 : 20000, shoot);
    }
    return app.exec();
}
