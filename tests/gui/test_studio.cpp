// ESPER Studio end to end, offscreen, with a bundle built from the tiny reference models: drops,
// live captions and scores, stale results, Caption all and its cancel, review round trips,
// bad images, and responsiveness.
#include "stall_meter.h"
#include "test_images.h"
#include "test_support.h"

#include "bundle/bundle_builder.h"
#include "datasets/caption_dataset.h"
#include "engine/engine_client.h"
#include "fake_hub.h"
#include "main_window.h"
#include "models/model_manager.h"
#include "models/new_bundle_dialog.h"
#include "review/export_dialog.h"
#include "review/replace_dialog.h"
#include "review/review_io.h"
#include "review/review_view.h"
#include "settings/appearance.h"
#include "settings/studio_settings.h"
#include "shortcuts_help.h"
#include "studio_application.h"
#include "training/compare_view.h"
#include "training/metric_chart.h"
#include "training/training_page.h"
#include "wav_format.h"
#include "workspace/audio_preview.h"
#include "workspace/decoding_panel.h"
#include "workspace/gallery_model.h"
#include "workspace/live_listen.h"
#include "workspace/style_panel.h"
#include "workspace/workspace_widget.h"
#include "world/scene.h"
#include "world/scene_sound.h"

#include <QAbstractButton>
#include <QApplication>
#include <QAudioFormat>
#include <QComboBox>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProcess>
#include <QProcessEnvironment>
#include <QProgressBar>
#include <QPushButton>
#include <QRandomGenerator>
#include <QScrollBar>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <QTreeWidget>
#include <QUndoStack>

using namespace esper::ui;

namespace {

QString makeBundle(const QString& dir) {
    esper::NewBundle b;
    b.dir = dir.toStdString();
    const QString models = esper::test::referenceDir() + "/models";
    b.clip = (models + "/clip-tiny").toStdString();
    b.clipTokenizer = (esper::test::dataDir() + "/tokenizers/clip-tiny").toStdString();
    b.lm = (models + "/gpt2-tiny").toStdString();
    b.lmTokenizer = (esper::test::dataDir() + "/tokenizers/gpt2-tiny").toStdString();
    b.prefixLength = 4;
    b.styles = {"caption", "news"};
    auto m = esper::createBundle(b);
    if (!m) qFatal("%s", m.error().c_str());
    return dir;
}

bool waitFor(const std::function<bool()>& done, int ms = 20000) {
    QElapsedTimer t;
    t.start();
    while (!done() && t.elapsed() < ms)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    return done();
}

void dropFiles(QWidget* target, const QStringList& files) {
    auto* mime = new QMimeData;
    QList<QUrl> urls;
    for (const auto& f : files)
        urls << QUrl::fromLocalFile(f);
    mime->setUrls(urls);
    const QPoint at = target->rect().center();
    QDragEnterEvent enter(at, Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(target, &enter);
    QDropEvent drop(at, Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(target, &drop);
    delete mime;
}

} // namespace

// With ESPER_SCREENSHOT_DIR set, saves a picture of `w` there (the README's screenshots).
void shoot(QWidget* w, const QString& name) {
    const QString dir = qEnvironmentVariable("ESPER_SCREENSHOT_DIR");
    if (dir.isEmpty()) return;
    QCoreApplication::processEvents();
    w->grab().save(QDir(dir).filePath(name));
}

class TestStudio : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;

    // Scenes of the synthetic world rendered by `esper world render`, with scenes.jsonl.
    QString renderScenes(const QString& name, int count) {
        const QString dir = tmp_.path() + "/" + name;
        QProcess render;
        render.start(ESPER_CLI_PATH,
                     {"world", "render", "--out", dir, "--count", QString::number(count)});
        if (!render.waitForFinished(60000) || render.exitCode() != 0) return {};
        return dir;
    }
    QString bundle_, images_;
    std::unique_ptr<MainWindow> window_;

    WorkspaceWidget* ws() { return window_->workspace(); }
    bool captionsShown() {
        for (int i = 0; i < ws()->styles()->count(); ++i)
            if (ws()->styles()->card(i)->captionText().isEmpty()) return false;
        return true;
    }

    // The Training page in view, and a fine-tune of the demo bundle on `scenes` into OUT.
    TrainingRequest demoFineTune(const QString& scenes, const QString& out,
                                 const QStringList& styles, int iterations) {
        window_->showTraining();
        TrainingRequest r;
        r.startBundle = ESPER_DEMO_BUNDLE_DIR;
        r.outDir = tmp_.path() + "/" + out;
        r.images = {scenes};
        r.styles = styles;
        r.iterations = iterations;
        return r;
    }

private slots:
    void initTestCase() {
        qputenv("XDG_CONFIG_HOME", (tmp_.path() + "/config").toUtf8()); // fresh settings
        qputenv("ESPER_CLI", ESPER_CLI_PATH); // the trainer the Training page starts
        bundle_ = makeBundle(tmp_.path() + "/bundle");
        images_ = tmp_.path() + "/images";
        QDir().mkpath(images_);
        const QString ref = esper::test::referenceDir() + "/images";
        QVERIFY(QFile::copy(ref + "/chelsea.png", images_ + "/a_chelsea.png"));
        QVERIFY(QFile::copy(ref + "/synthetic_97x61.png", images_ + "/b_synthetic.png"));
        QVERIFY(esper::test::writeTestFile(images_ + "/c_corrupt.jpg", "not a jpeg at all"));
        window_ = std::make_unique<MainWindow>();
        window_->show();
        QSignalSpy loaded(window_->engine(), &EngineClient::bundleLoaded);
        window_->openBundle(bundle_);
        QVERIFY(loaded.wait(30000));
        QVERIFY(window_->engine()->bundleReady());
        ws()->styles()->setStyles({{"caption", "Caption", "caption:"}, {"news", "News", "news:"}});
    }

    void droppingFilesFillsTheGalleryAndCaptionsEveryStyle() {
        dropFiles(window_.get(), {images_ + "/a_chelsea.png", images_ + "/b_synthetic.png"});
        QCOMPARE(ws()->gallery()->rowCount(), 2);
        QCOMPARE(ws()->currentImage(), images_ + "/a_chelsea.png");
        QVERIFY(waitFor([&] { return captionsShown(); }));
        for (int i = 0; i < ws()->styles()->count(); ++i) {
            auto* card = ws()->styles()->card(i);
            QVERIFY(!card->captionText().isEmpty());
            QVERIFY(card->clipScore() > 0);
            QCOMPARE(card->clipScore(), ws()->results()[ws()->currentImage()].captions[i].clipS);
        }
    }

    void editingAPromptRecaptionsAndStaleResultsNeverShow() {
        QVERIFY(waitFor([&] { return window_->engine()->queueLength() == 0; }));
        window_->engine()->setStepDelay(40); // a slow device: each request takes ~1.6 s
        QSignalSpy finished(window_->engine(), &EngineClient::captionFinished);
        QSignalSpy tokens(window_->engine(), &EngineClient::captionToken);
        ws()->selectRow(1); // starts request A
        QTest::qWait(200);  // A is streaming
        auto* prompt = ws()->styles()->card(0)->promptEdit();
        prompt->clear();
        QTest::keyClicks(prompt, "sns:"); // after the debounce: request B supersedes A
        QVERIFY(waitFor(
            [&] { return finished.count() >= 1 && window_->engine()->queueLength() == 0; }));
        window_->engine()->setStepDelay(0);
        QCOMPARE(finished.count(), 1); // A's result was dropped, never forwarded
        const quint64 winner = finished.first()[0].toULongLong();
        QVERIFY(tokens.count() > 0);
        quint64 lastId = 0;
        for (const auto& t : tokens) {
            const quint64 id = t[0].toULongLong();
            QVERIFY(id >= lastId); // after B started, no token of A reached the UI
            lastId = id;
        }
        QCOMPARE(lastId, winner);
        const auto outcome = finished.first()[1].value<CaptionOutcome>();
        QCOMPARE(ws()->styles()->card(0)->captionText(), outcome.captions[0].text);
        QCOMPARE(ws()->styles()->styles()[0].prompt, QString("sns:"));
    }

    void captionAllMarksTheCorruptImageOnlyAndCanBeCancelled() {
        dropFiles(window_.get(), {images_}); // the folder: adds c_corrupt.jpg
        QCOMPARE(ws()->gallery()->rowCount(), 3);
        QSignalSpy progress(ws(), &WorkspaceWidget::progress);
        ws()->captionAll();
        QVERIFY(waitFor([&] { return !ws()->captioningAll(); }));
        const auto corrupt =
            ws()->gallery()->index(ws()->gallery()->indexOf(images_ + "/c_corrupt.jpg"));
        QVERIFY(!corrupt.data(GalleryModel::ErrorRole).toString().isEmpty());
        // Every captioned image reached review as a generated item, saved with it.
        for (const QString good : {"/a_chelsea.png", "/b_synthetic.png"}) {
            const int row = window_->review()->model()->rowOf(images_ + good);
            QVERIFY(row >= 0);
            QCOMPARE(window_->review()->model()->item(row).generated.size(), 2); // two styles
        }
        QVERIFY(window_->review()->model()->rowOf(images_ + "/c_corrupt.jpg") < 0);
        QVERIFY(!window_->review()->projectPath().isEmpty());
        window_->review()->finishFileWork();
        QVERIFY(QFile::exists(window_->review()->projectPath()));
        QVERIFY(corrupt.data(GalleryModel::ErrorRole).toString().contains("c_corrupt.jpg"));
        for (const QString good : {"/a_chelsea.png", "/b_synthetic.png"}) {
            const auto idx = ws()->gallery()->index(ws()->gallery()->indexOf(images_ + good));
            QVERIFY(idx.data(GalleryModel::ErrorRole).toString().isEmpty());
            QVERIFY(ws()->results()[images_ + good].error.isEmpty());
        }
        // Cancel: with a slow device, cancelling after the first result leaves the rest undone.
        QTemporaryDir many;
        for (int i = 0; i < 12; ++i)
            QVERIFY(QFile::copy(images_ + "/b_synthetic.png",
                                many.path() + QString("/img%1.png").arg(i, 2, 10, QChar('0'))));
        ws()->addPaths({many.path()});
        window_->engine()->setStepDelay(15);
        QSignalSpy done(window_->engine(), &EngineClient::backgroundFinished);
        ws()->captionAll();
        QVERIFY(done.wait(20000));
        ws()->cancelCaptionAll();
        QVERIFY(waitFor([&] { return window_->engine()->queueLength() == 0; }));
        QTest::qWait(300);
        window_->engine()->setStepDelay(0);
        QVERIFY2(done.count() < 15, qPrintable(QString::number(done.count())));
        QVERIFY(!ws()->captioningAll());
    }

    // With a dozen background captions queued, the image the user looks at is captioned next,
    // not after them.
    void interactiveCaptionGoesBeforeQueuedBackgroundWork() {
        auto* engine = window_->engine();
        engine->setStepDelay(10);
        QSignalSpy background(engine, &EngineClient::backgroundFinished);
        QSignalSpy interactive(engine, &EngineClient::captionFinished);
        for (int i = 0; i < 12; ++i)
            engine->captionInBackground(images_ + "/b_synthetic.png", ws()->styles()->styles(),
                                        ws()->decoding()->settings());
        engine->captionNow(images_ + "/a_chelsea.png", ws()->styles()->styles(),
                           ws()->decoding()->settings());
        QVERIFY(interactive.wait(30000));
        // At most the one background request already running finished first.
        QVERIFY2(background.count() <= 1, qPrintable(QString::number(background.count())));
        engine->cancelBackground();
        QVERIFY(waitFor([&] { return engine->queueLength() == 0; }));
        engine->setStepDelay(0);
    }

    void uiStaysResponsiveDuringCaptionAll() {
        QTemporaryDir many;
        for (int i = 0; i < 200; ++i)
            QVERIFY(QFile::copy(images_ + "/b_synthetic.png",
                                many.path() + QString("/r%1.png").arg(i, 3, 10, QChar('0'))));
        ws()->gallery()->clear();
        ws()->addPaths({many.path()});
        qint64 worst = 0, last = 0;
        QElapsedTimer clock;
        clock.start();
        QTimer tick;
        tick.setInterval(5);
        connect(&tick, &QTimer::timeout, [&] {
            const qint64 now = clock.elapsed();
            if (last) worst = std::max(worst, now - last);
            last = now;
        });
        tick.start();
        QElapsedTimer run;
        run.start();
        ws()->captionAll();
        QVERIFY(waitFor([&] { return !ws()->captioningAll(); }, 120000));
        tick.stop();
        qInfo("Caption all over 200 images: %.1f s; longest UI-thread gap %lld ms",
              run.elapsed() / 1000.0, worst);
        QVERIFY2(worst < 100, qPrintable(QString("UI thread blocked for %1 ms").arg(worst)));
    }

    void tenThousandImagesOpenWithoutLoadingEveryThumbnail() {
        QTemporaryDir big;
        QFile src(images_ + "/b_synthetic.png");
        QVERIFY(src.open(QIODevice::ReadOnly));
        const QByteArray bytes = src.readAll();
        for (int i = 0; i < 10000; ++i) {
            QFile f(big.path() + QString("/i%1.png").arg(i, 5, 10, QChar('0')));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(bytes);
        }
        ws()->gallery()->clear();
        QElapsedTimer t;
        t.start();
        ws()->addPaths({big.path()});
        QCoreApplication::processEvents();
        ws()->galleryView()->repaint();
        const qint64 firstPaint = t.elapsed();
        QTest::qWait(1500);
        ws()->galleryView()->verticalScrollBar();
        ws()->galleryView()->scrollToBottom();
        QTest::qWait(500);
        QFile status("/proc/self/status");
        QString rss;
        if (status.open(QIODevice::ReadOnly))
            for (const auto& line : QString(status.readAll()).split('\n'))
                if (line.startsWith("VmRSS")) rss = line.simplified();
        qInfo("10,000 images: first paint after %lld ms, %d thumbnails loaded, %s", firstPaint,
              ws()->gallery()->thumbnailsLoaded(), qPrintable(rss));
        QCOMPARE(ws()->gallery()->rowCount(), 10000);
        QVERIFY(firstPaint < 3000);
        QVERIFY(ws()->gallery()->thumbnailsLoaded() < 1000);
    }

    void reviewEditsUndoExportAndReopenRoundTrip() {
        auto* review = window_->review();
        auto* model = review->model();
        QVector<ReviewItem> items;
        for (const QString name : {"a_chelsea.png", "b_synthetic.png"}) {
            ReviewItem it;
            it.imagePath = images_ + "/" + name;
            it.references = {"a reference"};
            it.generated = {{"caption", "generated " + name}};
            it.caption = "generated " + name;
            it.source = "tiny bundle · caption";
            it.clipS = 0.5;
            items.push_back(it);
        }
        model->setItems(items);
        window_->undoStack()->clear(); // the workspace's style steps of earlier tests
        const QString project = tmp_.path() + "/project.esper-review";
        review->setProjectPath(project);
        window_->showReview();
        review->selectImage(images_ + "/a_chelsea.png");
        QTest::keyClick(review->table(), Qt::Key_A);
        QCOMPARE(model->item(0).status, ReviewStatus::Accepted);
        QTest::keyClick(review->table(), Qt::Key_Down);
        QTest::keyClick(review->table(), Qt::Key_R);
        QCOMPARE(model->item(1).status, ReviewStatus::Rejected);
        window_->undoStack()->undo();
        QCOMPARE(model->item(1).status, ReviewStatus::Unreviewed);
        window_->undoStack()->redo();
        QCOMPARE(model->item(1).status, ReviewStatus::Rejected);
        // Edit: E opens the editor; typing and Enter commits an undoable edit.
        review->selectImage(images_ + "/b_synthetic.png");
        QTest::keyClick(review->table(), Qt::Key_E);
        auto* editor = review->table()->findChild<QLineEdit*>();
        QVERIFY(editor);

        editor->selectAll();
        QTest::keyClicks(editor, "a small red square");
        QTest::keyClick(editor, Qt::Key_Return);
        QTest::qWait(50); // the delegate commits on the next turn of the event loop
        QCOMPARE(model->item(1).caption, QString("a small red square"));
        QCOMPARE(model->item(1).status, ReviewStatus::Edited);
        window_->undoStack()->undo();
        QCOMPARE(model->item(1).caption, QString("generated b_synthetic.png"));
        QCOMPARE(model->item(1).status, ReviewStatus::Rejected);
        window_->undoStack()->redo();
        QCOMPARE(model->item(1).caption, QString("a small red square"));

        // Export: sidecars for reviewed items only, with each existing-file policy.
        const QString sidecar = images_ + "/b_synthetic.txt";
        auto report = exportSidecars(model->items(), ".txt", SidecarPolicy::Overwrite, {true});
        QCOMPARE(report.written, 2);
        auto read = [](const QString& p) {
            QFile f(p);
            f.open(QIODevice::ReadOnly);
            return QString::fromUtf8(f.readAll());
        };
        QCOMPARE(read(sidecar), QString("a small red square\n"));
        QCOMPARE(read(images_ + "/a_chelsea.txt"), QString("generated a_chelsea.png\n"));
        report = exportSidecars(model->items(), ".txt", SidecarPolicy::Skip, {true});
        QCOMPARE(report.skipped, 2);
        exportSidecars(model->items(), ".txt", SidecarPolicy::Append, {true});
        QCOMPARE(read(sidecar), QString("a small red square\na small red square\n"));
        exportSidecars(model->items(), ".txt", SidecarPolicy::Prepend, {true});
        QCOMPARE(read(sidecar).count("a small red square"), 3);
        const QString jsonl = tmp_.path() + "/export.jsonl";
        QVERIFY(exportJsonl(model->items(), jsonl, {true}).ok());
        const auto lines = read(jsonl).trimmed().split('\n');
        QCOMPARE(lines.size(), 2);
        QCOMPARE(QJsonDocument::fromJson(lines[1].toUtf8())
                     .object()["references"]
                     .toArray()[0]
                     .toString(),
                 QString("a small red square"));
        // Provenance: the edited caption is a person's, the accepted one the model's.
        const QJsonObject edited = QJsonDocument::fromJson(lines[1].toUtf8()).object();
        QCOMPARE(edited["source"].toString(), QString("human"));
        QCOMPARE(edited["generated"]["caption"]["caption"].toString(),
                 QString("generated b_synthetic.png")); // the candidates travel too
        QCOMPARE(edited["status"].toString(), QString("edited"));
        QVERIFY(edited["flags"].isArray());
        const QJsonObject accepted = QJsonDocument::fromJson(lines[0].toUtf8()).object();
        QCOMPARE(accepted["source"].toString(), QString("tiny bundle · caption"));
        // The export reads back as a dataset.
        auto reread = esper::readDataset(jsonl.toStdString());
        QVERIFY(reread.ok() && reread->records.size() == 2);
        const QString coco = tmp_.path() + "/export.json";
        QVERIFY(exportCoco(model->items(), coco, {false}).ok());
        QVERIFY(read(coco).contains("a small red square"));

        // Save and reopen: everything comes back.
        QSignalSpy saveFailed(review, &ReviewView::saveFailed);
        review->saveNow();
        review->finishFileWork();
        QCOMPARE(saveFailed.count(), 0);
        const auto before = model->items();
        QUndoStack reopenedUndo;
        ReviewView reopened(&reopenedUndo);
        QSignalSpy reopenedSpy(&reopened, &ReviewView::opened);
        reopened.openProject(project);
        QVERIFY(waitFor([&] { return reopenedSpy.count() == 1; }));
        QCOMPARE(reopened.model()->items().size(), before.size());
        for (int i = 0; i < before.size(); ++i)
            QCOMPARE(reopened.model()->item(i).toJson(), before[i].toJson());
        // The undo history came back with the project: the last edit undoes, then redoes.
        QCOMPARE(reopenedUndo.count(), window_->undoStack()->count());
        QCOMPARE(reopenedUndo.index(), window_->undoStack()->index());
        const int b = reopened.model()->rowOf(images_ + "/b_synthetic.png");
        QCOMPARE(reopened.model()->item(b).caption, QString("a small red square"));
        reopenedUndo.undo();
        QCOMPARE(reopened.model()->item(b).caption, QString("generated b_synthetic.png"));
        QCOMPARE(reopened.model()->item(b).status, ReviewStatus::Rejected);
        QCOMPARE(reopened.model()->item(b).source, QString("tiny bundle · caption"));
        reopenedUndo.redo();
        QCOMPARE(reopened.model()->item(b).caption, QString("a small red square"));
        QCOMPARE(reopened.model()->item(b).status, ReviewStatus::Edited);
    }

    void reviewOpensDatasetsAndFilters() {
        auto* review = window_->review();
        QSignalSpy opened(review, &ReviewView::opened);
        QSignalSpy failed(review, &ReviewView::openFailed);
        review->openDataset(esper::test::dataDir() + "/eval/photos_coco.json");
        // Read on the file thread: the UI thread is free until the items arrive.
        QCOMPARE(opened.count(), 0);
        QVERIFY(waitFor([&] { return opened.count() == 1; }));
        QCOMPARE(review->model()->rowCount(), 3);
        QVERIFY(review->model()->item(0).references.first().contains("astronaut"));
        review->setFilter({}, "rocket");
        QCOMPARE(review->table()->model()->rowCount(), 1);
        review->setFilter("accepted", {});
        QCOMPARE(review->table()->model()->rowCount(), 0);
        review->setFilter({}, {});
        // CLIP-S and RefCLIP-S of each caption, from the engine thread.
        QSignalSpy scored(window_->engine(), &EngineClient::scoreFinished);
        review->scoreAll();
        QVERIFY(waitFor([&] { return scored.count() == 3; }));
        for (const auto& it : review->model()->items()) {
            QVERIFY2(it.clipS >= 0 && it.clipS <= 2.5, qPrintable(it.imagePath));
            // The caption is the first reference here, so RefCLIP-S = 2ab / (a + b) with b = 1.
            QVERIFY(std::abs(it.refClipS - 2 * it.clipS / (it.clipS + 1)) < 1e-4);
        }
        review->openDataset("/nonexistent.json");
        QVERIFY(waitFor([&] { return failed.count() == 1; }));
        QVERIFY(failed[0][1].toString().contains("does not exist"));
        QCOMPARE(review->model()->rowCount(), 3); // a failed open keeps what was there
    }

    // File > Switch model: the shipped bundles first, then the recently opened ones, the loaded
    // one checked; choosing one loads it.
    // The quality checks flag what needs review, off the UI thread: a loop, a cut-off caption,
    // a leaked prompt; "needs review" filters to them and N walks through them. An accepted
    // caption is not flagged again.
    void reviewFlagsCaptionsThatNeedReview() {
        auto* review = window_->review();
        auto* model = review->model();
        QVector<ReviewItem> items;
        for (const char* text :
             {"a red square above a blue circle", "a dog and a dog and a dog and a dog",
              "a green triangle next to the", "news: a yellow star on grey",
              "two purple discs and one white box"}) {
            ReviewItem it;
            it.imagePath = images_ + "/" + QString(text).left(6) + ".png";
            it.caption = text;
            items << it;
        }
        items[3].status = ReviewStatus::Accepted;
        model->setItems(items);
        QVERIFY(waitFor([&] { return model->flagged(1) && model->flagged(2); }));
        QVERIFY(!model->flagged(0) && !model->flagged(3) && !model->flagged(4));
        QVERIFY(model->index(1, ReviewModel::FlagsColumn).data().toString().contains("repetition"));
        QVERIFY(model->index(2, ReviewModel::FlagsColumn)
                    .data(Qt::ToolTipRole)
                    .toString()
                    .contains("ends on 'the'"));
        review->setFilter("needs review", {});
        QCOMPARE(review->table()->model()->rowCount(), 2);
        // Thresholds from the settings: a stricter minimum length flags the short ones too.
        esper::QualityOptions strict;
        strict.minWords = 8;
        review->setQualityOptions(strict);
        QVERIFY(waitFor([&] { return model->flagged(0); })); // it has 7 words
        QVERIFY(model->index(0, ReviewModel::FlagsColumn).data().toString().contains("too short"));
        review->setQualityOptions({});
        QVERIFY(waitFor([&] { return !model->flagged(0); }));
        // The thresholds and the decoding settings are remembered, field by field.
        {
            StudioSettings settings;
            settings.setQualityOptions(strict);
            DecodingSettings d;
            d.sample = true;
            d.temperature = 0.9;
            d.topK = 7;
            settings.setDecoding(d);
        }
        StudioSettings reread;
        QCOMPARE(reread.qualityOptions().minWords, 8);
        QCOMPARE(reread.qualityOptions().duplicateJaccard,
                 esper::QualityOptions{}.duplicateJaccard);
        QCOMPARE(reread.decoding().sample, true);
        QCOMPARE(reread.decoding().temperature, 0.9);
        QCOMPARE(reread.decoding().topK, 7);
        reread.setQualityOptions({});
        review->setFilter({}, {});
        review->table()->setCurrentIndex({});
        QVERIFY(review->nextNeedingReview());
        const auto first = review->table()->currentIndex().data(ReviewModel::PathRole).toString();
        QVERIFY(review->nextNeedingReview());
        QVERIFY(review->table()->currentIndex().data(ReviewModel::PathRole).toString() != first);
        window_->showReview();
        shoot(window_.get(), "review-flags.png");
    }

    // View → Appearance: dark and light palettes on request, remembered, and back to the
    // platform's own; the review's status and flag colours stay visible on both.
    void appearanceSwitchesPalettesAndIsRemembered() {
        auto action = [this](const QString& name) {
            auto* a = window_->findChild<QAction*>("appearance-" + name);
            if (a) a->trigger();
            QCoreApplication::processEvents(); // widgets take the new palette
            return a != nullptr;
        };
        const QColor platformWindow = QApplication::palette().color(QPalette::Window);
        QVERIFY(action("dark"));
        QVERIFY(darkPaletteInUse());
        QCOMPARE(StudioSettings().appearance(), QString("dark"));
        auto* table = window_->review()->table();
        QVERIFY(table->palette().color(QPalette::Base).lightness() < 80);
        // The status colours are translucent: on a dark base they still stand apart from it.
        const QColor accepted = QColor(39, 174, 96);
        QVERIFY(qAbs(accepted.lightness() - table->palette().color(QPalette::Base).lightness()) >
                40);
        window_->showReview();
        shoot(window_.get(), "review-dark.png");
        QVERIFY(action("light"));
        QVERIFY(!darkPaletteInUse());
        QVERIFY(action("system"));
        QCOMPARE(QApplication::palette().color(QPalette::Window), platformWindow);
        QCOMPARE(StudioSettings().appearance(), QString("system"));
    }

    // Find and replace over the whole dataset is one undoable step, with a preview first; a
    // regex may use back-references; accepting a selection is one step too.
    void bulkReplaceIsOneUndoableStep() {
        auto* review = window_->review();
        auto* model = review->model();
        QVector<ReviewItem> items;
        for (int i = 0; i < 5; ++i) {
            ReviewItem it;
            it.imagePath = images_ + QString("/bulk%1.png").arg(i);
            it.caption = i < 3 ? QString("a small red box number %1").arg(i) : "a blue disc";
            items << it;
        }
        model->setItems(items);
        window_->undoStack()->clear();
        ReplaceDialog dialog(review);
        dialog.setQuery("small red", "tiny crimson");
        QVERIFY(dialog.previewText().startsWith("3 caption(s) change"));
        QCOMPARE(
            review->replaceInCaptions("small red", "tiny crimson", false, ReviewView::Scope::All),
            3);
        QCOMPARE(window_->undoStack()->count(), 1);
        QCOMPARE(model->item(0).caption, QString("a tiny crimson box number 0"));
        QCOMPARE(model->item(0).status, ReviewStatus::Edited);
        QCOMPARE(model->item(3).caption, QString("a blue disc"));
        window_->undoStack()->undo();
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(model->item(i).caption, items[i].caption);
            QCOMPARE(model->item(i).status, ReviewStatus::Unreviewed);
        }
        window_->undoStack()->redo();
        QCOMPARE(model->item(2).caption, QString("a tiny crimson box number 2"));
        QCOMPARE(review->replaceInCaptions("number (\\d)", "#\\1", true, ReviewView::Scope::All),
                 3);
        QCOMPARE(model->item(1).caption, QString("a tiny crimson box #1"));
        // Plain text is taken literally.
        QCOMPARE(review->replaceInCaptions("#1", "\\1", false, ReviewView::Scope::All), 1);
        QCOMPARE(model->item(1).caption, QString("a tiny crimson box \\1"));
        // Accepting a selection of three is one step.
        window_->showReview();
        review->table()->selectAll();
        review->setStatusOfCurrent(ReviewStatus::Accepted);
        for (int i = 0; i < 5; ++i)
            QCOMPARE(model->item(i).status, ReviewStatus::Accepted);
        window_->undoStack()->undo();
        QCOMPARE(model->item(4).status, ReviewStatus::Unreviewed);
        QCOMPARE(model->item(1).status, ReviewStatus::Edited);
    }

    // Each item keeps its candidates, one per style; choosing one makes it the caption, with
    // its CLIP-S and where it came from, as one undoable step.
    void choosingACandidateIsUndoable() {
        auto* review = window_->review();
        auto* model = review->model();
        ReviewItem it;
        it.imagePath = images_ + "/candidates.png";
        it.generated = {{"caption", "a red box"}, {"news", "Breaking: a red box"}};
        it.scores = {{"caption", 2.1}, {"news", 1.9}};
        it.caption = "a red box";
        it.clipS = 2.1;
        it.source = "demo · caption";
        model->setItems({it});
        window_->undoStack()->clear();
        review->useCandidate(0, "news");
        QCOMPARE(model->item(0).caption, QString("Breaking: a red box"));
        QCOMPARE(model->item(0).source, QString("demo · news"));
        QCOMPARE(model->item(0).status, ReviewStatus::Accepted);
        QCOMPARE(model->item(0).clipS, 1.9);
        window_->undoStack()->undo();
        QCOMPARE(model->item(0).caption, QString("a red box"));
        QCOMPARE(model->item(0).source, QString("demo · caption"));
        QCOMPARE(model->item(0).clipS, 2.1);
        QCOMPARE(model->item(0).status, ReviewStatus::Unreviewed);
    }

    // Caption all asks about images that already have a caption (here a sidecar) and skips
    // them when told to.
    void captionAllAsksAboutCaptionedImagesAndSkipsThem() {
        QTemporaryDir dir;
        QVERIFY(QFile::copy(images_ + "/a_chelsea.png", dir.filePath("cat.png")));
        QVERIFY(QFile::copy(images_ + "/b_synthetic.png", dir.filePath("red.png")));
        QVERIFY(esper::test::writeTestFile(dir.filePath("cat.txt"), "a cat\n"));
        ws()->gallery()->clear();
        ws()->addPaths({dir.filePath("cat.png"), dir.filePath("red.png")});
        QSignalSpy done(window_->engine(), &EngineClient::backgroundFinished);
        QString question;
        QTimer::singleShot(200, [&question] {
            auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
            if (!box) return;
            question = box->text();
            for (auto* b : box->buttons())
                if (b->text() == "Skip them") b->click();
        });
        window_->captionAll();
        QVERIFY2(question.startsWith("1 of the images already have a caption"),
                 qPrintable(question));
        QVERIFY(waitFor([&] { return done.count() == 1 && !ws()->captioningAll(); }));
        QTest::qWait(200);
        QCOMPARE(done.count(), 1);
        QCOMPARE(done[0][1].value<CaptionOutcome>().imagePath, dir.filePath("red.png"));
    }

    // Style edits are undoable: adding a style is one step, typing in a prompt is one step
    // however many keystrokes, and each is undone and redone.
    void styleEditsAreUndoable() {
        auto* undo = window_->undoStack();
        undo->clear();
        const auto start = ws()->styles()->styles();
        ws()->styles()->addStyle({"blog", "Blog", "blog:"});
        QCOMPARE(ws()->styles()->count(), int(start.size()) + 1);
        QCOMPARE(undo->count(), 1);
        QLineEdit* prompt = nullptr;
        for (auto* e : ws()->styles()->card(0)->findChildren<QLineEdit*>())
            if (e->text() == start[0].prompt) prompt = e;
        QVERIFY(prompt);
        prompt->setFocus();
        prompt->end(false);
        QTest::keyClicks(prompt, " big");
        QCOMPARE(ws()->styles()->styles()[0].prompt, start[0].prompt + " big");
        QCOMPARE(undo->count(), 2); // four keystrokes, one step
        undo->undo();
        QCOMPARE(ws()->styles()->styles()[0].prompt, start[0].prompt);
        QCOMPARE(ws()->styles()->count(), int(start.size()) + 1);
        undo->undo();
        QCOMPARE(ws()->styles()->count(), int(start.size()));
        undo->redo();
        QCOMPARE(ws()->styles()->count(), int(start.size()) + 1);
        undo->undo();
        QCOMPARE(ws()->styles()->count(), int(start.size()));
        QVERIFY(waitFor([&] { return window_->engine()->queueLength() == 0; }));
    }

    // The whole annotation loop in one go: Caption all fills the review with every style's
    // candidate and where it came from; a bulk edit, its undo and a suffix; save and reopen
    // (undo still works); then each export, its bytes checked against what a person expects.
    void theAnnotationLoopRoundTripsToTheExportedBytes() {
        QTemporaryDir dir;
        QVERIFY(QFile::copy(images_ + "/a_chelsea.png", dir.filePath("cat.png")));
        QVERIFY(QFile::copy(images_ + "/b_synthetic.png", dir.filePath("red.png")));
        auto* review = window_->review();
        auto* model = review->model();
        auto* undo = window_->undoStack();
        model->setItems({});
        review->finishFileWork();
        const QString project = dir.filePath("loop.esper-review");
        review->setProjectPath(project);
        ws()->styles()->setStyles({{"caption", "Caption", "caption:"}, {"news", "News", "news:"}});
        undo->clear();
        DecodingSettings greedy;
        greedy.maxTokens = 12;
        ws()->decoding()->setSettings(greedy);
        ws()->gallery()->clear();
        ws()->addPaths({dir.filePath("cat.png"), dir.filePath("red.png")});
        QSignalSpy done(window_->engine(), &EngineClient::backgroundFinished);
        window_->captionAll();
        QVERIFY(waitFor([&] { return done.count() == 2 && !ws()->captioningAll(); }));
        review->finishFileWork();

        // Every image has both styles' candidates, each with its bundle, prompt and decoding.
        QCOMPARE(model->rowCount(), 2);
        const int cat = model->rowOf(dir.filePath("cat.png"));
        QVERIFY(cat >= 0);
        const ReviewItem generated = model->item(cat);
        QCOMPARE(generated.generated.keys(), (QStringList{"caption", "news"}));
        QCOMPARE(generated.caption, generated.generated["caption"]);
        QCOMPARE(generated.source, QString("bundle · caption"));
        QCOMPARE(generated.activeCandidate(), QString("caption"));
        const QJsonObject origin = generated.origins["news"];
        QCOMPARE(QJsonDocument(origin).toJson(QJsonDocument::Compact),
                 QByteArray(R"({"bundle":"bundle","decoding":{"cut_at_period":true,)"
                            R"("max_tokens":12,"no_repeat_ngram":2,"strategy":"greedy"},)"
                            R"("prompt":"news:","style":"news"})"));
        QVERIFY(generated.clipS >= 0);
        // The table filters by who wrote the caption.
        review->setFilter("generated by a model", {});
        QCOMPARE(review->table()->model()->rowCount(), 2);
        review->setFilter("written by a person", {});
        QCOMPARE(review->table()->model()->rowCount(), 0);
        review->setFilter({}, {});

        // A bulk replace, undone and redone, then a suffix; three steps in all.
        QCOMPARE(review->replaceInCaptions("^", "photo: ", true, ReviewView::Scope::All), 2);
        undo->undo();
        QCOMPARE(model->item(cat).caption, generated.caption);
        QCOMPARE(model->item(cat).status, ReviewStatus::Unreviewed);
        QCOMPARE(model->item(cat).clipS, generated.clipS);
        undo->redo();
        QCOMPARE(review->addAffix(" [checked]", ReviewView::Affix::Suffix, ReviewView::Scope::All),
                 2);
        QCOMPARE(review->addAffix(" [checked]", ReviewView::Affix::Suffix, ReviewView::Scope::All),
                 0); // there already
        const QString edited = "photo: " + generated.caption + " [checked]";
        QCOMPARE(model->item(cat).caption, edited);
        QCOMPARE(model->item(cat).source, QString("human"));
        QCOMPARE(model->item(cat).clipS, -1.0); // the score was the generated caption's
        QCOMPARE(model->item(cat).activeCandidate(), QString());
        review->setFilter("written by a person", {});
        QCOMPARE(review->table()->model()->rowCount(), 2);
        review->setFilter({}, {});

        // Saved and reopened: the items, and the steps to undo.
        review->saveNow();
        review->finishFileWork();
        model->setItems({});
        undo->clear();
        QSignalSpy opened(review, &ReviewView::opened);
        review->openProject(project);
        QVERIFY(opened.wait(10000));
        QCOMPARE(model->rowCount(), 2);
        QCOMPARE(undo->count(), 2);
        undo->undo();
        QCOMPARE(model->item(model->rowOf(dir.filePath("cat.png"))).caption,
                 "photo: " + generated.caption);
        undo->redo();
        const ReviewItem cat2 = model->item(model->rowOf(dir.filePath("cat.png")));
        QCOMPARE(cat2.caption, edited);
        QCOMPARE(cat2.origins, generated.origins);

        auto bytes = [](const QString& p) {
            QFile f(p);
            return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray("(missing)");
        };
        // The export form counts what it will write, and remembers its choices.
        {
            ExportDialog dialog(model->items());
            dialog.setChoices({{"format", 1}, {"only_reviewed", true}, {"all_candidates", true}});
            int captions = 0;
            for (const auto& it : model->items())
                captions += int(it.allCaptions().size());
            QCOMPARE(dialog.summaryText(),
                     QString("2 item(s), %1 caption(s) will be written.").arg(captions));
            QCOMPARE(dialog.format(), ExportDialog::Format::SidecarCaption);
            QVERIFY(dialog.selection().allCandidates && dialog.selection().onlyReviewed);
            QCOMPARE(dialog.choices()["format"].toInt(), 1);
            dialog.show();
            shoot(&dialog, "export-dialog.png");
        }
        // Sidecars: the active caption, then every candidate one per line.
        auto report = exportSidecars(model->items(), ".txt", SidecarPolicy::Overwrite,
                                     {.onlyReviewed = true});
        QCOMPARE(report.written, 2);
        QCOMPARE(bytes(dir.filePath("cat.txt")), (edited + "\n").toUtf8());
        report = exportSidecars(model->items(), ".caption", SidecarPolicy::Overwrite,
                                {.onlyReviewed = true, .allCandidates = true});
        QCOMPARE(report.written, 2);
        QStringList all{edited, generated.generated["caption"]};
        if (!all.contains(generated.generated["news"])) all << generated.generated["news"];
        QCOMPARE(bytes(dir.filePath("cat.caption")), (all.join("\n") + "\n").toUtf8());

        // JSONL: what a script reading it finds, written out by hand.
        auto json = [](const QString& text) { // a string as JSON writes it
            const QByteArray a = QJsonDocument(QJsonArray{text}).toJson(QJsonDocument::Compact);
            return a.mid(1, a.size() - 2);
        };
        auto candidate = [&](const QString& style) {
            return "\"" + style.toUtf8() + "\":{\"caption\":" + json(generated.generated[style]) +
                   ",\"clip_s\":" +
                   QJsonDocument(QJsonArray{generated.scores[style]})
                       .toJson(QJsonDocument::Compact)
                       .mid(1)
                       .chopped(1) +
                   ",\"origin\":{\"bundle\":\"bundle\",\"decoding\":{\"cut_at_period\":true,"
                   "\"max_tokens\":12,\"no_repeat_ngram\":2,\"strategy\":\"greedy\"},"
                   "\"prompt\":\"" +
                   style.toUtf8() + ":\",\"style\":\"" + style.toUtf8() + "\"}}";
        };
        const QString path = dir.filePath("cat.png");
        const QByteArray expected =
            "{\"flags\":[],\"generated\":{" + candidate("caption") + "," + candidate("news") +
            "},\"image\":" + json(path) + ",\"image_id\":" + json(path) + ",\"references\":[" +
            json(edited) + "],\"source\":\"human\",\"status\":\"edited\"}\n";
        const QString jsonl = dir.filePath("loop.jsonl");
        QVERIFY(exportJsonl(model->items(), jsonl, {.onlyReviewed = true}).ok());
        const QList<QByteArray> lines = bytes(jsonl).split('\n');
        QCOMPARE(lines.size(), 3); // two records and the final newline
        const int catLine = lines[0].contains("cat.png") ? 0 : 1;
        QCOMPARE(lines[catLine] + "\n", expected);
        // COCO with every candidate: an annotation per caption.
        const QString coco = dir.filePath("loop.json");
        QVERIFY(exportCoco(model->items(), coco, {.allCandidates = true}).ok());
        auto read = esper::readDataset(coco.toStdString());
        QVERIFY(read.ok());
        const auto& refs = read->records[read->index.at(path.toStdString())].references.at("");
        QCOMPARE(int(refs.size()), int(all.size()));
        QCOMPARE(QString::fromStdString(refs[0]), edited);
    }

    // The bulk prefix and suffix: only captions without it change, as one step, and the dialog
    // previews it.
    void prefixAndSuffixAreAddedOnceAsOneStep() {
        auto* review = window_->review();
        auto* model = review->model();
        QVector<ReviewItem> items(3);
        for (int i = 0; i < 3; ++i) {
            items[i].imagePath = images_ + QString("/affix%1.png").arg(i);
            items[i].caption = i == 0 ? "photo of a cat" : QString("a dog %1").arg(i);
        }
        model->setItems(items);
        window_->undoStack()->clear();
        ReplaceDialog dialog(review);
        dialog.setMode(ReplaceDialog::Mode::Prefix);
        dialog.setQuery("photo of ", {});
        QVERIFY2(dialog.previewText().startsWith("2 caption(s) change"),
                 qPrintable(dialog.previewText()));
        QVERIFY(dialog.previewText().contains("→ photo of a dog 1"));
        dialog.show();
        shoot(&dialog, "bulk-prefix.png");
        QCOMPARE(review->addAffix("photo of ", ReviewView::Affix::Prefix, ReviewView::Scope::All),
                 2);
        QCOMPARE(model->item(0).caption, QString("photo of a cat"));
        QCOMPARE(model->item(2).caption, QString("photo of a dog 2"));
        QCOMPARE(window_->undoStack()->count(), 1);
        window_->undoStack()->undo();
        QCOMPARE(model->item(2).caption, QString("a dog 2"));
    }

    // Killing the studio in the middle of Caption all loses at most the captions of the save
    // in flight: the project file reopens with every image it had saved.
    void killedDuringCaptionAllTheProjectReopens() {
        QTemporaryDir dir;
        QVERIFY(QDir().mkpath(dir.filePath("many")));
        for (int i = 0; i < 150; ++i)
            QVERIFY(QFile::copy(images_ + "/b_synthetic.png",
                                dir.filePath(QString("many/img%1.png").arg(i, 3, 10, QChar('0')))));
        const QString project = dir.filePath("run.esper-review");
        QProcess studio;
        auto env = QProcessEnvironment::systemEnvironment();
        env.insert("QT_QPA_PLATFORM", "offscreen");
        env.insert("XDG_CONFIG_HOME", dir.filePath("config"));
        studio.setProcessEnvironment(env);
        studio.start(ESPER_STUDIO_PATH, {dir.filePath("many"), "--bundle", bundle_, "--project",
                                         project, "--caption-all"});
        QVERIFY(studio.waitForStarted(10000));
        int seen = 0;
        QVERIFY(waitFor(
            [&] {
                auto items = loadProject(project);
                seen = items ? int(items->size()) : 0;
                return seen >= 10;
            },
            60000));
        QVERIFY2(seen < 150, "Caption all finished before the kill; the test needs more images");
        studio.kill(); // SIGKILL: no chance to save anything more
        QVERIFY(studio.waitForFinished(10000));
        auto reopened = loadProject(project);
        QVERIFY2(reopened.ok(), reopened.ok() ? "" : reopened.error().c_str());
        QVERIFY2(int(reopened->size()) >= seen,
                 qPrintable(QString("%1 < %2").arg(reopened->size()).arg(seen)));
        for (const auto& it : reopened.value())
            QVERIFY(!it.generated.isEmpty());
    }

    // Killed at 100 random moments while Caption all runs and saves, again and again on the same
    // project: the project file always opens (0 corrupt files) and never holds fewer items than
    // before (nothing saved is lost).
    void killedAtAHundredRandomMomentsNothingIsLost() {
        QTemporaryDir dir;
        QVERIFY(QDir().mkpath(dir.filePath("many")));
        for (int i = 0; i < 60; ++i)
            QVERIFY(QFile::copy(images_ + (i % 2 ? "/b_synthetic.png" : "/a_chelsea.png"),
                                dir.filePath(QString("many/img%1.png").arg(i, 3, 10, QChar('0')))));
        const QString project = dir.filePath("run.esper-review");
        auto env = QProcessEnvironment::systemEnvironment();
        env.insert("QT_QPA_PLATFORM", "offscreen");
        env.insert("XDG_CONFIG_HOME", dir.filePath("config"));
        QRandomGenerator random(20261207); // the same moments run after run
        const int kills = qEnvironmentVariableIntValue("ESPER_KILL_RUNS") > 0
                              ? qEnvironmentVariableIntValue("ESPER_KILL_RUNS")
                              : 100;
        auto start = [&](QProcess& studio) {
            studio.setProcessEnvironment(env);
            studio.start(ESPER_STUDIO_PATH, {dir.filePath("many"), "--bundle", bundle_, "--project",
                                             project, "--caption-all"});
            return studio.waitForStarted(10000);
        };
        // The moments scale with how long this machine takes to start and save its first
        // caption (about a second when idle), so that a busy machine still sees runs that save.
        int firstSave = 0;
        {
            QProcess studio;
            QElapsedTimer clock;
            clock.start();
            QVERIFY(start(studio));
            QVERIFY(waitFor(
                [&] {
                    auto items = loadProject(project);
                    return items.ok() && !items->empty();
                },
                120000));
            firstSave = int(clock.elapsed());
            qInfo("first save after %d ms", firstSave);
            studio.kill();
            QVERIFY(studio.waitForFinished(10000));
        }
        auto saved = loadProject(project);
        QVERIFY(saved.ok());
        int before = int(saved->size()), saves = 0;
        for (int run = 1; run < kills; ++run) {
            QProcess studio;
            QVERIFY(start(studio));
            QTest::qWait(int(random.bounded(firstSave / 5 + 1, firstSave * 6 / 5 + 2)));
            studio.kill();
            QVERIFY(studio.waitForFinished(10000));
            if (!QFile::exists(project)) {
                QCOMPARE(before, 0); // killed before the first save ever
                continue;
            }
            auto items = loadProject(project);
            QVERIFY2(items.ok(),
                     qPrintable(QString("run %1: %2")
                                    .arg(run)
                                    .arg(QString::fromStdString(items.ok() ? "" : items.error()))));
            QVERIFY2(int(items->size()) >= before, qPrintable(QString("run %1: %2 items, %3 before")
                                                                  .arg(run)
                                                                  .arg(items->size())
                                                                  .arg(before)));
            saves += int(items->size()) > before;
            before = int(items->size());
        }
        QVERIFY2(saves > 0, "no run killed at a random moment lived long enough to save");
    }

    // An error that escapes an event handler saves the review (to a recovery project when none
    // is open) and says so, instead of aborting with the edits unsaved.
    void anEscapedErrorSavesTheReviewAndSaysSo() {
        QString caught;
        const bool handled =
            deliverGuarded([]() -> bool { throw std::runtime_error("a broken invariant"); },
                           [&caught](const QString& what) { caught = what; });
        QVERIFY(!handled);
        QCOMPARE(caught, QString("a broken invariant"));

        auto* review = window_->review();
        ReviewItem it;
        it.imagePath = images_ + "/recovered.png";
        it.caption = "a caption typed before the error";
        review->model()->setItems({it});
        review->setProjectPath({});
        QString shown;
        QTimer::singleShot(200, [&shown] {
            if (auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget())) {
                shown = box->text();
                box->accept();
            }
        });
        window_->recoverFromInternalError("a broken invariant");
        QVERIFY2(shown.contains("a broken invariant") && shown.contains(".esper-review"),
                 qPrintable(shown));
        QVERIFY(!review->projectPath().isEmpty());
        auto saved = loadProject(review->projectPath());
        QVERIFY(saved.ok() && saved->size() == 1);
        QCOMPARE(saved->at(0).caption, it.caption);
        review->setProjectPath({});
    }

    // --help and --version answer without a display (a QApplication would abort there).
    void helpAndVersionNeedNoDisplay() {
        for (const QString& flag : {QString("--help"), QString("--version")}) {
            QProcess studio;
            auto env = QProcessEnvironment::systemEnvironment();
            env.remove("DISPLAY");
            env.remove("WAYLAND_DISPLAY");
            env.insert("QT_QPA_PLATFORM", "xcb");
            studio.setProcessEnvironment(env);
            studio.start(ESPER_STUDIO_PATH, {flag});
            QVERIFY(studio.waitForFinished(10000));
            QCOMPARE(studio.exitStatus(), QProcess::NormalExit);
            QCOMPARE(studio.exitCode(), 0);
            const QString out = studio.readAllStandardOutput();
            QVERIFY2(flag == "--help" ? out.contains("--caption-all") : out.contains("0.1.0"),
                     qPrintable(out));
        }
    }

    // Models → New bundle…: a bundle from the models here, made and checked by esper in a child
    // process, its mapper taken from a file when one is given.
    void aBundleIsMadeFromInstalledModels() {
        QTemporaryDir models;
        const QString ref = esper::test::referenceDir() + "/models";
        const QString tok = esper::test::dataDir() + "/tokenizers";
        for (const auto& [model, tokenizer, dest] :
             {std::tuple{"clip-tiny", "clip-tiny", "org/clip"},
              {"gpt2-tiny", "gpt2-tiny", "org/lm"}}) {
            QVERIFY(QDir().mkpath(models.path() + "/" + dest));
            for (const char* f : {"config.json", "model.safetensors"})
                QVERIFY(
                    QFile::copy(ref + "/" + model + "/" + f, models.path() + "/" + dest + "/" + f));
            for (const char* f : {"vocab.json", "merges.txt"})
                QVERIFY(QFile::copy(tok + "/" + tokenizer + "/" + f,
                                    models.path() + "/" + dest + "/" + f));
        }
        QCOMPARE(NewBundleDialog::installedModels(models.path(), {"clip"}),
                 QStringList{"org/clip"});
        QCOMPARE(NewBundleDialog::installedModels(models.path(), {"gpt2", "llama"}),
                 QStringList{"org/lm"});
        NewBundleDialog dialog(models.path());
        QSignalSpy created(&dialog, &NewBundleDialog::created);
        dialog.choose("org/clip", "org/lm", {}, "tiny");
        dialog.create();
        QVERIFY2(waitFor([&] { return created.count() == 1; }, 60000),
                 qPrintable(dialog.statusText()));
        QVERIFY(QFileInfo::exists(models.path() + "/bundles/tiny/esper.json"));
        dialog.show();
        shoot(&dialog, "new-bundle.png");
        // A mapper that does not fit the models is caught by the check, in words.
        esper::test::writeTestFile(models.path() + "/bad-mapper.safetensors", "not a mapper");
        dialog.choose("org/clip", "org/lm", models.path() + "/bad-mapper.safetensors", "tiny2");
        dialog.create();
        QVERIFY(waitFor([&] { return dialog.statusText().startsWith("The bundle was not made"); },
                        60000));
        QVERIFY2(dialog.statusText().contains("mapper"), qPrintable(dialog.statusText()));
    }

    // While a shipped demo model is loaded, the status bar offers the way to real models.
    void theDemoModelPointsToRealModels() {
        auto hint = [this]() -> QPushButton* {
            for (auto* b : window_->statusBar()->findChildren<QPushButton*>())
                if (b->text().contains("Get models")) return b;
            return nullptr;
        };
        QVERIFY(hint());
        auto reload = [this] {
            QSignalSpy loaded(window_->engine(), &EngineClient::bundleLoaded);
            window_->openBundle(bundle_);
            return loaded.wait(30000);
        };
        window_->setShippedBundles({bundle_});
        QVERIFY(reload());
        QVERIFY(hint()->isVisible());
        window_->setShippedBundles({});
        QVERIFY(reload());
        QVERIFY(!hint()->isVisible());
    }

    // File → Models…: a model fetched from a hub (served here) in a click, with its memory
    // shown first, listed where it lives, then removed.
    void modelManagerDownloadsShowsAndRemoves() {
        esper::test::FakeHub hub;
        QTemporaryDir models;
        ModelManager manager(models.path(), hub.endpoint());
        manager.show();
        QCOMPARE(manager.statusOf("org/model"), QString("not downloaded"));
        // Every registry model's memory, from its safetensors header on the hub (this one
        // serves the same weights for each).
        QVERIFY(waitFor([&] { return manager.memoryText("gpt2") == "133.1 kB"; }));
        QCOMPARE(manager.memoryText("openai/clip-vit-base-patch32"), QString("133.1 kB"));
        QSignalSpy downloaded(&manager, &ModelManager::downloaded);
        hub.slow = true; // slow enough to be seen in progress
        manager.download("org/model");
        QCOMPARE(manager.statusOf("org/model"), QString("downloading…"));
        auto* bar = manager.findChild<QProgressBar*>();
        QVERIFY(waitFor(
            [&] { return bar->format().startsWith("model.safetensors") && bar->value() > 400; }));
        shoot(&manager, "model-manager.png");
        QVERIFY(waitFor([&] { return downloaded.count() == 1; }, 20000));
        hub.slow = false;
        QCOMPARE(manager.statusOf("org/model"), QString("in the models folder"));
        QVERIFY(waitFor([&] { return manager.memoryText("org/model") == "133.1 kB"; }));
        QFile weights(models.path() + "/org/model/model.safetensors");
        QVERIFY(weights.open(QIODevice::ReadOnly));
        QCOMPARE(weights.readAll(), hub.weights);
        QVERIFY2(manager.statusText().contains("is ready"), qPrintable(manager.statusText()));
        QVERIFY(manager.remove("org/model"));
        QCOMPARE(manager.statusOf("org/model"), QString("not downloaded"));
        QVERIFY(!manager.remove("../outside"));
        // What a cancelled or crashed download leaves is shown as such.
        QVERIFY(QDir().mkpath(models.path() + "/org/half"));
        QVERIFY(esper::test::writeTestFile(models.path() + "/org/half/config.json", "{}"));
        QVERIFY(esper::test::writeTestFile(models.path() + "/org/half/model.safetensors.incomplete",
                                           "1234"));
        QVERIFY(manager.statusOf("org/half").startsWith("partly downloaded"));
        QLineEdit* repo = nullptr;
        for (auto* e : manager.findChildren<QLineEdit*>())
            repo = e;
        repo->setText("org/half");
        bool resume = false;
        for (auto* b : manager.findChildren<QPushButton*>())
            resume = resume || b->text() == "Resume";
        QVERIFY(resume); // an interrupted download is resumed, not started again
        // A PyTorch checkpoint imported in the background, read without running it.
        const QString checkpoint =
            esper::test::sharedReferenceDir() + "/checkpoints/lightning_style.ckpt";
        if (QFileInfo::exists(checkpoint)) {
            QSignalSpy imported(&manager, &ModelManager::imported);
            manager.importCheckpointFile(checkpoint);
            QVERIFY(waitFor([&] { return imported.count() == 1; }));
            QVERIFY(
                QFileInfo::exists(models.path() + "/imported/lightning_style/mapper.safetensors"));
            QVERIFY2(manager.statusText().contains("as mapper"), qPrintable(manager.statusText()));
        }
        // A ClipCap checkpoint comes out as a bundle, opened in one click.
        QPushButton* openImported = nullptr;
        for (auto* b : manager.findChildren<QPushButton*>())
            if (b->text() == "Open the imported bundle") openImported = b;
        QVERIFY(openImported && !openImported->isVisible());
        esper::ImportOptions clipCap;
        clipCap.heads = 4; // a GPT-2 this narrow is no released size
        clipCap.clip = (esper::test::referenceDir() + "/models/clip-tiny").toStdString();
        QSignalSpy importedBundle(&manager, &ModelManager::imported);
        QSignalSpy opened(&manager, &ModelManager::bundleCreated);
        manager.importCheckpointFile(esper::test::dataDir() + "/checkpoints/clipcap_gpt2_tiny.pt",
                                     clipCap);
        QVERIFY(waitFor([&] { return importedBundle.count() == 1; }));
        QVERIFY2(openImported->isVisible(), qPrintable(manager.statusText()));
        openImported->click();
        QCOMPARE(opened.count(), 1);
        QVERIFY(QFileInfo::exists(opened.first().first().toString() + "/esper.json"));
        // A repository the hub does not have: said in words, nothing left behind.
        manager.download("org/missing");
        QVERIFY(waitFor([&] { return manager.statusText().contains("could not be downloaded"); }));
        QVERIFY(manager.statusText().contains("does not exist"));
    }

    // The keyboard help lists what the menus offer, read from them.
    void shortcutsHelpListsTheMenusShortcuts() {
        ShortcutsHelp help(window_->menuBar());
        QVERIFY(help.rows() >= 15);
        QStringList all;
        for (auto* t : help.findChildren<QTableWidget*>())
            for (int r = 0; r < t->rowCount(); ++r)
                all << t->item(r, 1)->text() + " = " + t->item(r, 2)->text();
        const QString text = all.join("\n");
        QVERIFY2(text.contains("Find and replace in captions… = Ctrl+H"), qPrintable(text));
        QVERIFY2(text.contains("Training = Ctrl+3"), qPrintable(text));
        QVERIFY(text.contains("Next caption that needs review = N"));
    }

    void switchModelMenuOffersShippedAndRecentBundles() {
        const QString other = makeBundle(tmp_.path() + "/bundle-b");
        window_->setShippedBundles({bundle_});
        QSignalSpy loaded(window_->engine(), &EngineClient::bundleLoaded);
        window_->openBundle(other);
        QVERIFY(loaded.wait(30000));
        QMenu* menu = window_->switchModelMenu();
        emit menu->aboutToShow();
        QStringList names;
        QString checked;
        for (QAction* a : menu->actions()) {
            if (a->isSeparator()) {
                names << "|";
                continue;
            }
            names << a->text();
            if (a->isChecked()) checked = a->text();
        }
        QCOMPARE(names, QStringList({"bundle", "|", "bundle-b"}));
        QCOMPARE(checked, QString("bundle-b"));
        menu->actions().first()->trigger();
        QVERIFY(loaded.wait(30000));
        emit menu->aboutToShow();
        QVERIFY(menu->actions().first()->isChecked());
        QVERIFY(!menu->actions().last()->isChecked());
    }

    // The device box is filled from the worker's probe (LibTorch never runs on the UI thread);
    // the CPU is always there, and with it its compressed-weight modes, which load the bundle.
    void deviceBoxListsWhatTheWorkerFound() {
        QSignalSpy found(window_->engine(), &EngineClient::devicesFound);
        window_->engine()->probeDevices();
        QVERIFY(found.wait(10000));
        const QStringList devices = found.first().first().toStringList();
        QVERIFY(devices.contains("cpu"));
        QComboBox* box = nullptr;
        for (auto* c : window_->findChildren<QComboBox*>())
            if (c->toolTip().startsWith("Where the models run")) box = c;
        QVERIFY(box);
        QCOMPARE(box->count(), devices.size() + 2);
        QCOMPARE(box->currentText(), QString("cpu"));
        QSignalSpy loaded(window_->engine(), &EngineClient::bundleLoaded);
        box->setCurrentText("cpu · int8");
        QVERIFY(loaded.wait(20000));
        QVERIFY(window_->engine()->bundleReady());
        QCOMPARE(loaded.last().first().value<BundleInfo>().device, QString("cpu · int8"));
        shoot(window_.get(), "device-int8.png");
        box->setCurrentText("cpu");
        QVERIFY(loaded.wait(20000));
        QVERIFY(window_->engine()->bundleReady());
    }

    // A fine-tune of the demo bundle on rendered world scenes, driven from the Training page as
    // a user would: chart points and preview captions arrive, Stop leaves a checkpoint and a
    // bundle, Resume carries on to the planned end, and Use this model loads the result. The
    // UI thread's longest stall meanwhile is measured (target: 50 ms).
    void trainingPageFineTunesStopsResumesAndLoads() {
        const QString scenes = renderScenes("train-scenes", 8);
        QVERIFY(!scenes.isEmpty());
        auto* page = window_->training();
        TrainingRequest r = demoFineTune(scenes, "finetuned", {"caption", "news"}, 8);
        r.previewEvery = 2;
        r.previewImages = 2;
        page->setRequest(r);
        QCOMPARE(page->request().outDir, r.outDir);
        esper::test::StallMeter stalls;
        QSignalSpy finished(page->run(), &TrainingRun::finished);
        page->start();
        QVERIFY(waitFor([&] { return page->rewardChart()->points() >= 2; }, 120000));
        QVERIFY(page->previews()->topLevelItemCount() >= 4); // before training: 2 images x 2
        page->run()->stop();
        QVERIFY(waitFor([&] { return finished.count() == 1; }, 120000));
        QVERIFY2(finished[0][0].toBool(), qPrintable(finished[0][3].toString()));
        QVERIFY(finished[0][1].toBool()); // stopped, not finished
        const int stoppedAt = finished[0][2].toJsonObject()["iterations"].toInt();
        QVERIFY(stoppedAt >= 2 && stoppedAt < 8);
        QVERIFY(QFile::exists(r.outDir + "/esper.json"));
        QVERIFY(QFile::exists(r.outDir + "/esper-checkpoint.safetensors"));
        QVERIFY(page->canResume());
        {
            // After a restart of the studio the stopped run is still there to resume.
            StudioSettings settings;
            TrainingPage again(&settings);
            QCOMPARE(again.request().outDir, r.outDir);
            QVERIFY(again.canResume());
        }
        const int pointsBefore = page->rewardChart()->points();
        page->resume();
        QVERIFY(waitFor([&] { return page->rewardChart()->points() >= pointsBefore + 3; }, 120000));
        shoot(window_.get(), "training.png"); // mid-run
        QVERIFY(waitFor([&] { return finished.count() == 2; }, 180000));
        QVERIFY2(finished[1][0].toBool(), qPrintable(finished[1][3].toString()));
        QVERIFY(!finished[1][1].toBool());
        QCOMPARE(finished[1][2].toJsonObject()["iterations"].toInt(), 8);
        QCOMPARE(finished[1][2].toJsonObject()["resumed_from"].toInt(), stoppedAt);
        QVERIFY(page->rewardChart()->points() > pointsBefore);
        const qint64 longest = stalls.longest();
        qInfo("longest UI-thread stall while training: %lld ms", longest);
        QVERIFY2(longest < 250, qPrintable(QString::number(longest)));
        // Use this model: the workspace now captions with the fine-tuned bundle.
        QSignalSpy loaded(window_->engine(), &EngineClient::bundleLoaded);
        emit page->useBundle(r.outDir);
        QVERIFY(loaded.wait(30000));
        QVERIFY(loaded[0][0].value<BundleInfo>().ok);
        QCOMPARE(QDir(loaded[0][0].value<BundleInfo>().dir), QDir(r.outDir));
        // Compare: the old and the new bundle's captions of one image, side by side.
        // The Compare grid: the demo, the supervised demo and the fine-tune, by two styles; a
        // double-click on a cell makes that caption the review item's own.
        const QString image = scenes + "/scene_0.png";
        CompareView compare(
            {ESPER_DEMO_BUNDLE_DIR, ESPER_DEMO_BUNDLE_DIR "/../demo-supervised", r.outDir}, image,
            {"caption", "news"});
        compare.show();
        QSignalSpy both(&compare, &CompareView::finishedAll);
        QVERIFY(both.wait(60000));
        QSignalSpy chosen(&compare, &CompareView::chosen);
        connect(&compare, &CompareView::chosen, window_->review(), &ReviewView::useCaption);
        emit compare.table()->cellActivated(1, 2); // news, by the fine-tune
        QCOMPARE(chosen.count(), 1);
        const int reviewed = window_->review()->model()->rowOf(image);
        QVERIFY(reviewed >= 0);
        const ReviewItem& picked = window_->review()->model()->item(reviewed);
        QCOMPARE(picked.status, ReviewStatus::Accepted);
        QCOMPARE(picked.caption, chosen[0][3].toString());
        QCOMPARE(picked.source, QString("finetuned · news"));
        QVERIFY(picked.generated.contains("news · finetuned"));
        for (int row = 0; row < 2; ++row)
            for (int column : {0, 1, 2})
                QVERIFY2(compare.table()->item(row, column) &&
                             !compare.table()->item(row, column)->text().isEmpty(),
                         qPrintable(QString("row %1 column %2").arg(row).arg(column)));
        shoot(&compare, "compare.png");
        // Back to the bundle the other tests use.
        window_->openBundle(bundle_);
        QVERIFY(loaded.wait(30000));
    }

    // A fine-tune by two workers (esper launch): the page shows their progress and what the
    // exchanges cost, Pause is off (a pause would outlast their exchanges' deadline), and Stop
    // reaches both: the run ends stopped, with its checkpoint and bundle written.
    void trainingPageRunsAcrossTwoWorkers() {
        const QString scenes = renderScenes("workers-scenes", 8);
        QVERIFY(!scenes.isEmpty());
        auto* page = window_->training();
        TrainingRequest r = demoFineTune(scenes, "two-workers", {"caption"}, 50);
        r.workers = 2;
        page->setRequest(r);
        QCOMPARE(page->request().workers, 2);
        QCOMPARE(TrainingRun::arguments(page->request(), false).mid(0, 4),
                 QStringList({"launch", "--workers", "2", "--"}));
        QSignalSpy finished(page->run(), &TrainingRun::finished);
        page->start();
        QVERIFY(waitFor([&] { return page->rewardChart()->points() >= 2; }, 120000));
        const QString status = page->findChild<QLabel*>("trainingStatus")->text();
        QVERIFY2(status.contains("2 workers"), qPrintable(status));
        QVERIFY(!page->findChild<QPushButton*>("trainingPause")->isEnabled());
        shoot(window_.get(), "training-workers.png");
        page->run()->stop();
        QVERIFY(waitFor([&] { return finished.count() == 1; }, 120000));
        QVERIFY2(finished[0][0].toBool(), qPrintable(finished[0][3].toString()));
        QVERIFY(finished[0][1].toBool());
        QVERIFY(finished[0][2].toJsonObject()["iterations"].toInt() < 50);
        QVERIFY(QFile::exists(r.outDir + "/esper.json"));
        QVERIFY(QFile::exists(r.outDir + "/esper-checkpoint.safetensors"));
        r.workers = 1;
        page->setRequest(r); // the next tests run one worker
    }

    // Supervised fine-tuning on the captions a user accepted in review: they are written as a
    // dataset, the trainer learns them, and their teacher-forced loss falls.
    void trainingOnAcceptedReviewCaptionsLowersTheirLoss() {
        const QString scenes = renderScenes("review-scenes", 6);
        QVERIFY(!scenes.isEmpty());
        QFile list(scenes + "/scenes.jsonl");
        QVERIFY(list.open(QIODevice::ReadOnly));
        auto* model = window_->review()->model();
        model->setItems({});
        for (const auto& line : list.readAll().split('\n')) {
            const QJsonObject rec = QJsonDocument::fromJson(line).object();
            if (rec.isEmpty()) continue;
            const QString caption = rec["references"]["caption"].toArray().first().toString();
            QVERIFY(!caption.isEmpty());
            const int row = model->addGenerated(scenes + "/" + rec["image"].toString(), "caption",
                                                "a picture", 0);
            model->setCaption(row, caption);
            model->setStatus(row, ReviewStatus::Accepted);
        }
        QCOMPARE(model->rowCount(), 6);
        auto* page = window_->training();
        TrainingRequest r;
        r.method = TrainingRequest::Method::SupervisedPairs;
        r.startBundle = ESPER_DEMO_BUNDLE_DIR;
        r.outDir = tmp_.path() + "/from-review";
        r.styles = {"caption"};
        r.randomMapper = true;
        r.iterations = 30;
        page->setRequest(r);
        QSignalSpy finished(page->run(), &TrainingRun::finished);
        page->start();
        QVERIFY(waitFor([&] { return finished.count() == 1; }, 120000));
        QVERIFY2(finished[0][0].toBool(), qPrintable(finished[0][3].toString()));
        const QJsonObject summary = finished[0][2].toJsonObject();
        QCOMPARE(summary["pairs"].toInt(), 6);
        QVERIFY2(summary["pair_loss_after"].toDouble() <
                     summary["pair_loss_before"].toDouble() - 0.3,
                 qPrintable(QJsonDocument(summary).toJson()));
        QVERIFY(page->lossChart()->points() == 0); // supervised reports "loss", not the policy's
        QVERIFY(QFile::exists(r.outDir + "/esper.json"));
    }

    // Sound through the studio with the demo bundle (its audio encoder hears the world): a
    // dropped WAV gets a waveform thumbnail and preview and cards scored by audio CLIP-S; live
    // listening from a fed pipe captions windows, drops those due while the engine is busy,
    // and keeps a clip as a workspace item with its captions in review.
    void soundIsCaptionedDroppedAndHeardLive() {
        const QString dir = tmp_.path() + "/sounds";
        QProcess render;
        render.start(ESPER_CLI_PATH, {"world", "render", "--out", dir, "--count", "3", "--audio"});
        QVERIFY(render.waitForFinished(60000) && render.exitCode() == 0);
        QSignalSpy loaded(window_->engine(), &EngineClient::bundleLoaded);
        window_->openBundle(ESPER_DEMO_BUNDLE_DIR);
        QVERIFY(loaded.wait(60000));
        QVERIFY(loaded.last().first().value<BundleInfo>().audio);
        ws()->styles()->setStyles({{"caption", "Caption", "caption:"}});

        const QString wav = dir + "/scene_1.wav";
        dropFiles(window_.get(), {wav});
        ws()->selectRow(ws()->gallery()->indexOf(wav));
        QVERIFY(waitFor([&] { return captionsShown(); }, 60000));
        const auto outcome = ws()->results().value(wav);
        QVERIFY(outcome.audio);
        QVERIFY(outcome.error.isEmpty());
        QVERIFY(ws()->styles()->card(0)->scoreLabel().startsWith("audio CLIP-S"));
        QVERIFY(waitFor([&] { return !ws()->audioPreview()->peaks().low.isEmpty(); }));
        QCOMPARE(ws()->audioPreview()->peaks().seconds, 2.0);
        QVERIFY(waitFor([&] {
            return !ws()->gallery()
                        ->data(ws()->gallery()->index(ws()->gallery()->indexOf(wav)),
                               Qt::DecorationRole)
                        .isNull();
        }));
        shoot(window_.get(), "studio-audio.png");

        // A 12-second recording: its first 30 s on the cards, and a timeline of 5-second
        // windows (0-5, 5-10, 10-12) below the waveform.
        esper::AudioClip recording;
        for (uint64_t scene = 0; scene < 6; ++scene) {
            const auto part = esper::world::renderSceneSound(esper::world::generateScene(1, scene));
            recording.samples.insert(recording.samples.end(), part.samples.begin(),
                                     part.samples.end());
        }
        const QString longWav = dir + "/recording.wav";
        QVERIFY(esper::media::writeWavFile(recording, longWav.toStdString()).ok());
        dropFiles(window_.get(), {longWav});
        ws()->selectRow(ws()->gallery()->indexOf(longWav));
        QVERIFY(waitFor([&] { return ws()->audioPreview()->timelineRows() == 3; }, 60000));
        for (int row = 0; row < 3; ++row)
            QVERIFY(!ws()->audioPreview()->timelineCaption(row).isEmpty());
        shoot(window_.get(), "studio-timeline.png");

        // Live: ten seconds of world sound at 48 kHz stereo arrive at once.
        window_->showLiveListening();
        auto* live = window_->liveListening();
        QVERIFY(live);
        live->setKeepFolder(tmp_.path() + "/kept");
        AudioPipe mic;
        QAudioFormat format;
        format.setSampleRate(48000);
        format.setChannelCount(2);
        format.setSampleFormat(QAudioFormat::Int16);
        live->listenTo(&mic, format);
        QByteArray pcm;
        for (int second = 0; second < 10; ++second)
            for (int i = 0; i < 48000; ++i) {
                const auto v =
                    qint16(8000 * std::sin(2 * M_PI * (330 + 40 * second) * i / 48000.0));
                pcm.append(reinterpret_cast<const char*>(&v), 2)
                    .append(reinterpret_cast<const char*>(&v), 2);
            }
        mic.write(pcm);
        QVERIFY(waitFor([&] { return !live->captionsText().isEmpty(); }, 60000));
        // The resampler holds back its filter's half-width (under a millisecond) until more
        // sound comes.
        QVERIFY(std::fabs(live->listener()->seconds() - 10.0) < 0.01);
        // The first second's window went out; every one that fell due while it was being
        // captioned was dropped, not queued.
        QCOMPARE(live->listener()->windowsSent(), 1);
        QCOMPARE(live->listener()->windowsSent() + live->listener()->windowsDropped(),
                 int(live->listener()->seconds()));
        QCOMPARE(live->listener()->lastWindow().samples.size(), qsizetype(5 * 16000));
        QVERIFY(live->lastLatencyMs() > 0);
        qInfo("live: caption on screen %.0f ms after its window's last sample",
              live->lastLatencyMs());
        shoot(window_.get(), "studio-listen-live.png");
        // One more second: a new window goes out now that the engine is free.
        mic.write(pcm.left(48000 * 4));
        QVERIFY(waitFor([&] { return live->listener()->windowsSent() == 2; }));
        const int rows = ws()->gallery()->rowCount();
        QSignalSpy kept(live, &LiveListenPanel::kept);
        QPushButton* keep = nullptr;
        for (auto* b : live->findChildren<QPushButton*>())
            if (b->text() == "Keep clip") keep = b;
        QVERIFY(keep && waitFor([&] { return keep->isEnabled(); }));
        keep->click();
        QCOMPARE(kept.count(), 1);
        const QString keptPath = kept.first().first().toString();
        QVERIFY(QFileInfo::exists(keptPath));
        QCOMPARE(ws()->gallery()->rowCount(), rows + 1);
        QVERIFY(window_->review()->model()->rowOf(keptPath) >= 0);
        live->stopListening();
        // Exported, the kept sound says what it is.
        const QString jsonl = tmp_.path() + "/sounds.jsonl";
        QVERIFY(exportJsonl(window_->review()->model()->items(), jsonl, {false}, {}).ok());
        QFile exported(jsonl);
        QVERIFY(exported.open(QIODevice::ReadOnly));
        bool found = false;
        for (const auto& line : exported.readAll().split('\n')) {
            const auto rec = QJsonDocument::fromJson(line).object();
            if (rec["image"].toString() != keptPath) continue;
            found = true;
            QCOMPARE(rec["modality"].toString(), QString("audio"));
            QCOMPARE(rec["audio"].toString(), keptPath);
        }
        QVERIFY(found);

        window_->openBundle(bundle_);
        QVERIFY(loaded.wait(60000));
    }

    void cleanupTestCase() { window_.reset(); }
};

QTEST_MAIN(TestStudio)
#include "test_studio.moc"
