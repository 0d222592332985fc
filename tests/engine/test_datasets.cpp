// Readers and writers of the caption dataset formats, with the errors a malformed file gets.
#include "test_support.h"

#include "datasets/caption_dataset.h"
#include "util/file_util.h"

#include <QDir>
#include <QTemporaryDir>

using namespace esper;

class TestDatasets : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;
    std::string write(const char* name, const std::string& text) {
        const auto p = (tmp_.path() + "/" + name).toStdString();
        QDir().mkpath(QFileInfo(QString::fromStdString(p)).path());
        if (!writeFileAtomic(p, text)) qFatal("cannot write");
        return p;
    }
    static std::vector<std::string> refs(const CaptionDataset& d, const std::string& id,
                                         const std::string& style = "") {
        const auto* r = d.find(id);
        if (!r || !r->references.count(style)) return {};
        return r->references.at(style);
    }

private slots:
    void readsCocoCaptions() {
        auto d = readDataset(write(
            "coco.json",
            R"({"images": [{"id": 42, "file_name": "a.jpg"}, {"id": 7, "file_name": "b.jpg"}], "annotations": [ {"id": 1, "image_id": 42, "caption": "A dog."}, {"id": 2, "image_id": 42, "caption": "A brown dog."}, {"id": 3, "image_id": 7, "caption": "A cat."}]})"));
        ESPER_VERIFY_OK(d);
        QCOMPARE(d->format, DatasetFormat::Coco);
        QCOMPARE(d->records.size(), size_t(2));
        QCOMPARE(d->records[0].imagePath, std::string("a.jpg"));
        QCOMPARE(refs(*d, "42"), (std::vector<std::string>{"A dog.", "A brown dog."}));
        QCOMPARE(refs(*d, "7"), (std::vector<std::string>{"A cat."}));
    }

    void readsKarpathySplits() {
        auto d = readDataset(write(
            "dataset_coco.json",
            R"({"dataset": "coco", "images": [ {"filepath": "val2014", "filename": "x.jpg", "imgid": 0, "cocoid": 391895, "split": "test", "sentences": [{"raw": "A man rides.", "tokens": ["a"]}, {"raw": "Someone rides.", "tokens": ["s"]}]}]})"));
        ESPER_VERIFY_OK(d);
        QCOMPARE(d->format, DatasetFormat::Karpathy);
        const auto* r = d->find("391895");
        QVERIFY(r);
        QCOMPARE(r->split, std::string("test"));
        QCOMPARE(r->imagePath, std::string("val2014/x.jpg"));
        QCOMPARE(refs(*d, "391895").size(), size_t(2));
    }

    void readsEspStyles() {
        auto d = readDataset(write(
            "esp.json",
            R"({"info": {}, "licenses": {}, "images": [{"id": 5, "file_name": "COCO_val2014_5.jpg"}], "annotations": [{"image_id": 5, "id": 1, "caption_sns": "so cute dog", "caption_news": "Dog found in park."}]})"));
        ESPER_VERIFY_OK(d);
        QCOMPARE(d->format, DatasetFormat::Esp);
        QCOMPARE(refs(*d, "5", "sns"), (std::vector<std::string>{"so cute dog"}));
        QCOMPARE(refs(*d, "5", "news"), (std::vector<std::string>{"Dog found in park."}));
        QVERIFY(refs(*d, "5", "blog").empty());
    }

    void readsJsonlIncludingCaptionOutput() {
        auto d = readDataset(
            write("set.jsonl", "{\"image\": \"a.jpg\", \"references\": [\"a dog\"]}\n"
                               "\n"
                               "{\"path\": \"a.jpg\", \"style\": \"sns\", \"caption\": \"woof\"}\n"
                               "{\"path\": \"a.jpg\", \"style\": \"news\", \"caption\": \"Dog\"}\n"
                               "{\"image\": \"b.jpg\", \"references\": {\"sns\": [\"hi\"]},"
                               " \"candidates\": {\"sns\": \"hey\"}}\n"));
        ESPER_VERIFY_OK(d);
        QCOMPARE(d->records.size(), size_t(2));
        QCOMPARE(d->find("a.jpg")->candidates.at("sns"), std::string("woof"));
        QCOMPARE(d->find("a.jpg")->candidates.at("news"), std::string("Dog"));
        QCOMPARE(refs(*d, "b.jpg", "sns"), (std::vector<std::string>{"hi"}));
    }

    void readsResultsAndEvalSets() {
        auto res = readDataset(write("res.json", R"([{"image_id": 42, "caption": "a dog"}])"));
        QVERIFY(res.ok());
        QCOMPARE(res->format, DatasetFormat::CocoResults);
        QCOMPARE(res->find("42")->candidates.at(""), std::string("a dog"));
        auto ev = readDataset(write("ev.json", R"({"refs": {"1": ["x y"]}, "cands": {"1": "x"}})"));
        QVERIFY(ev.ok());
        QCOMPARE(ev->format, DatasetFormat::EvalSet);
    }

    void readsFoldersWithSidecars() {
        write("folder/one.jpg", "not decoded here");
        write("folder/one.txt", "a red circle\n\n  a circle  \n");
        write("folder/sub/two.png", "x");
        write("folder/sub/two.caption", "a blue square");
        write("folder/notes.md", "ignored");
        auto d = readDataset((tmp_.path() + "/folder").toStdString());
        ESPER_VERIFY_OK(d);
        QCOMPARE(d->format, DatasetFormat::Folder);
        QCOMPARE(d->records.size(), size_t(2));
        QCOMPARE(refs(*d, "one.jpg"), (std::vector<std::string>{"a red circle", "a circle"}));
        QCOMPARE(refs(*d, "sub/two.png"), (std::vector<std::string>{"a blue square"}));
    }

    void writersRoundTrip() {
        CaptionDataset d;
        d.records.push_back({"12", "img/12.jpg", "val", {{"", {"a", "b"}}}, {{"", "c"}}});
        d.records.push_back({"x", "x.png", "", {{"sns", {"hey"}}, {"news", {"N"}}}, {}});
        for (size_t i = 0; i < d.records.size(); ++i)
            d.index[d.records[i].imageId] = i;
        const auto jsonl = (tmp_.path() + "/rt.jsonl").toStdString();
        QVERIFY(writeJsonl(d, jsonl).ok());
        auto back = readDataset(jsonl);
        ESPER_VERIFY_OK(back);
        QCOMPARE(back->records.size(), d.records.size());
        for (size_t i = 0; i < d.records.size(); ++i) {
            QCOMPARE(back->records[i].imageId, d.records[i].imageId);
            QCOMPARE(back->records[i].imagePath, d.records[i].imagePath);
            QCOMPARE(back->records[i].split, d.records[i].split);
            QCOMPARE(back->records[i].references, d.records[i].references);
            QCOMPARE(back->records[i].candidates, d.records[i].candidates);
        }
        const auto coco = (tmp_.path() + "/rt.json").toStdString();
        QVERIFY(writeCocoCaptions(d, coco).ok());
        auto c = readDataset(coco);
        ESPER_VERIFY_OK(c);
        QCOMPARE(refs(*c, "12"), (std::vector<std::string>{"a", "b"}));
    }

    void malformedInputsGivePreciseErrors_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("expected");
        QTest::newRow("bad json line/column") << "bad.json"
                                              << "{\n  \"images\": [\n    {\"id\": 1,}\n  ]\n}"
                                              << "line 3, column";
        QTest::newRow("annotation names unknown image")
            << "c1.json"
            << R"({"images": [{"id": 1}], "annotations": [{"image_id": 2, "caption": "x"}]})"
            << "annotations[0].image_id 2 names no entry";
        QTest::newRow("caption not a string")
            << "c2.json"
            << R"({"images": [{"id": 1}], "annotations": [{"image_id": 1, "caption": 3}]})"
            << "annotations[0].caption must be a string";
        QTest::newRow("karpathy without sentences") << "k.json"
                                                    << R"({"images": [{"filename": "a.jpg"}]})"
                                                    << "images[0].sentences";
        QTest::newRow("jsonl bad line") << "j.jsonl"
                                        << "{\"image\": \"a\"}\n{\"image\": \n"
                                        << "j.jsonl:2: invalid JSON";
        // Found by fuzzing: a number out of any type's range threw past the reader.
        QTest::newRow("jsonl number overflow") << "j4.jsonl"
                                               << "{\"image\": 776e7777777777755555}\n"
                                               << "j4.jsonl:1: invalid JSON";
        QTest::newRow("jsonl wrong field") << "j2.jsonl"
                                           << "{\"image\": \"a\", \"references\": 5}\n"
                                           << "j2.jsonl:1: \"references\"";
        QTest::newRow("jsonl no image") << "j3.jsonl"
                                        << "{\"references\": [\"a\"]}\n"
                                        << "j3.jsonl:1: the record names no image";
        QTest::newRow("unknown layout") << "u.json"
                                        << R"({"foo": 1})"
                                        << "--format";
    }

    void malformedInputsGivePreciseErrors() {
        QFETCH(QString, name);
        QFETCH(QString, text);
        QFETCH(QString, expected);
        auto d = readDataset(write(qPrintable(name), text.toStdString()));
        QVERIFY(!d.ok());
        QVERIFY2(QString::fromStdString(d.error()).contains(expected), d.error().c_str());
        QVERIFY2(QString::fromStdString(d.error()).contains(name), "names the file");
    }

    void missingPathIsReported() {
        auto d = readDataset("/nonexistent/data.json");
        QVERIFY(!d.ok());
        QVERIFY(QString::fromStdString(d.error()).contains("does not exist"));
        QVERIFY(!parseFormatName("yaml").ok());
    }
};

QTEST_GUILESS_MAIN(TestDatasets)
#include "test_datasets.moc"
