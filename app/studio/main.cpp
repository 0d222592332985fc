// esper-studio: the desktop app. Opens the last bundle (or the demo bundle) and any images or
// folders given on the command line.
//   esper-studio [IMAGES|FOLDERS...] [--bundle DIR] [--dataset FILE] [--review]
//                [--screenshot FILE]
// --screenshot waits until captions are in, saves the window to FILE and quits (for docs).
#include "blas_tuning.h"
#include "default_bundle.h"
#include "main_window.h"
#include "models/runtime.h"
#include "review/review_view.h"
#include "settings/studio_settings.h"
#include "workspace/workspace_widget.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QTimer>

int main(int argc, char** argv) {
    esper::ensureBlasCoreType(argv);
    esper::configureRuntime();
    QApplication app(argc, argv);
    QApplication::setApplicationName("ESPER Studio");
    QApplication::setOrganizationName("ESPER Studio");
    QCommandLineParser cli;
    cli.setApplicationDescription("ESPER Studio: style-prompted image captions with CLIP scores");
    cli.addHelpOption();
    cli.addPositionalArgument("images", "Images or folders to open");
    QCommandLineOption bundleOpt("bundle", "The ESPER bundle to load", "dir");
    QCommandLineOption reviewOpt("review", "Start in review mode");
    QCommandLineOption datasetOpt(
        "dataset", "Open a dataset (COCO, Karpathy, ESP, JSONL, folder) for review", "file");
    QCommandLineOption shotOpt("screenshot",
                               "Save the window to FILE once captions are in, then quit", "file");
    QCommandLineOption projectOpt(
        "project", "The review project to open, or to create and save into as captions arrive",
        "file");
    QCommandLineOption captionAllOpt("caption-all",
                                     "Caption every image given once the model is loaded");
    cli.addOptions({bundleOpt, reviewOpt, datasetOpt, projectOpt, captionAllOpt, shotOpt});
    cli.process(app);

    esper::ui::MainWindow window;
    QStringList shipped;
    for (const auto& dir : esper::shippedBundleDirs())
        shipped << QString::fromStdString(dir);
    window.setShippedBundles(shipped);
    const QString last = esper::ui::StudioSettings().lastBundle();
    QString bundle = cli.value(bundleOpt);
    if (bundle.isEmpty())
        bundle = !last.isEmpty() ? last : QString::fromStdString(esper::defaultBundleDir());
    if (!bundle.isEmpty()) window.openBundle(bundle);
    if (!cli.positionalArguments().isEmpty())
        window.workspace()->addPaths(cli.positionalArguments());
    if (cli.isSet(datasetOpt)) {
        window.review()->openDataset(cli.value(datasetOpt));
        window.showReview();
    }
    if (cli.isSet(projectOpt)) {
        const QString project = cli.value(projectOpt);
        if (QFileInfo::exists(project))
            window.review()->openProject(project);
        else
            window.review()->setProjectPath(project);
    }
    if (cli.isSet(captionAllOpt))
        QObject::connect(window.engine(), &esper::ui::EngineClient::bundleLoaded, &window,
                         [&window](const esper::ui::BundleInfo& info) {
                             if (info.ok) window.captionAll();
                         });
    if (cli.isSet(reviewOpt)) window.showReview();
    window.show();
    if (cli.isSet(shotOpt)) {
        const QString file = cli.value(shotOpt);
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
