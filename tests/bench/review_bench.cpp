// How the review mode scales: a 100,000-item project (generated here) opened, sorted, filtered,
// quality-checked and saved, with the longest stall of the UI thread while the files are read
// and written on the file thread. Prints one JSON object. Not a test: run it and read it.
//   build/tests/review_bench [ITEMS]
#include "review/review_io.h"
#include "review/review_model.h"
#include "review/review_quality.h"
#include "review/review_view.h"
#include "stall_meter.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTimer>
#include <QUndoStack>

#include <algorithm>
#include <cstdio>

using namespace esper::ui;

namespace {

double msSince(const QElapsedTimer& t) {
    return double(t.nsecsElapsed()) / 1e6;
}

// The longest UI-thread stall while `wait` runs the event loop.
template <class Wait> qint64 longestStall(Wait wait) {
    esper::test::StallMeter stalls;
    wait();
    return stalls.longest();
}

} // namespace

int main(int argc, char** argv) {
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    const int n = argc > 1 ? std::max(1, atoi(argv[1])) : 100000;
    QTemporaryDir dir;
    const QString project = dir.filePath("big.esper-review");
    {
        static const char* shapes[] = {"square", "circle", "triangle", "diamond"};
        static const char* colours[] = {"red", "green", "blue", "white", "black"};
        QVector<ReviewItem> items;
        items.reserve(n);
        for (int i = 0; i < n; ++i) {
            ReviewItem it;
            it.imagePath = QString("/photos/%1/img%2.jpg").arg(i / 1000).arg(i);
            it.caption =
                QString("a picture of a %1 %2 beside a %3 %4")
                    .arg(colours[i % 5], shapes[i % 4], colours[(i / 5) % 5], shapes[(i / 4) % 4]);
            it.generated["caption"] = it.caption;
            it.clipS = 1.5 + 0.001 * (i % 997);
            it.scores["caption"] = it.clipS;
            it.source = "demo · caption";
            items.push_back(std::move(it));
        }
        if (auto ok = saveProject(project, items); !ok) {
            std::fprintf(stderr, "%s\n", ok.error().c_str());
            return 1;
        }
    }
    QUndoStack undo;
    ReviewView view(&undo);
    view.resize(1200, 800);
    view.show();
    QSignalSpy opened(&view, &ReviewView::opened);
    QElapsedTimer t;
    t.start();
    const qint64 openStall = longestStall([&] {
        view.openProject(project);
        while (opened.isEmpty())
            QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    });
    const double openMs = msSince(t);

    t.restart();
    view.table()->sortByColumn(ReviewModel::ScoreColumn, Qt::DescendingOrder);
    const double sortMs = msSince(t);
    // The first search reads every caption for the first time since the file thread made them.
    t.restart();
    view.setFilter({}, "triangle beside a blue");
    const double firstFilterMs = msSince(t);
    view.setFilter({}, {});
    t.restart();
    view.setFilter({}, "triangle beside a blue");
    const int shown = view.table()->model()->rowCount();
    const double filterMs = msSince(t);
    view.setFilter({}, {});

    t.restart();
    const auto quality = qualityOf(view.model()->items());
    const double qualityMs = msSince(t);

    t.restart();
    view.setProjectPath(project);
    // A save is left to the file thread; the UI thread keeps turning meanwhile.
    const qint64 saveStall = longestStall([&] {
        view.saveNow();
        QElapsedTimer wait;
        wait.start();
        while (view.files()->busy() && wait.elapsed() < 30000)
            QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    });
    const double saveMs = msSince(t);

    const QJsonObject out{{"items", n},
                          {"open_ms", openMs},
                          {"open_longest_ui_stall_ms", openStall},
                          {"sort_by_clip_s_ms", sortMs},
                          {"filter_by_text_first_ms", firstFilterMs},
                          {"filter_by_text_ms", filterMs},
                          {"filter_rows_shown", shown},
                          {"quality_checks_ms", qualityMs},
                          {"save_ms", saveMs},
                          {"save_longest_ui_stall_ms", saveStall}};
    std::printf("%s\n", QJsonDocument(out).toJson(QJsonDocument::Indented).constData());
    return 0;
}
