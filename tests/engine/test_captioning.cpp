// ESPER captioning through the engine's public API, with bundles assembled from the tiny
// reference models (GPT-2 and LLaMA): loading and its errors, determinism, batched styles,
// best-of-N, streaming, CLIP scores.
#include "test_images.h"
#include "test_support.h"

#include "bundle/bundle_builder.h"
#include "bundle/model_registry.h"
#include "captioning/captioner.h"
#include "io/safetensors.h"
#include "styles/style_presets.h"
#include "text/sentencepiece_tokenizer.h"
#include "util/file_util.h"

#include <QDir>
#include <QTemporaryDir>
#include <cmath>
#include <map>
#include <set>

using namespace esper;

namespace {

using esper::test::patternImage;

std::string models() {
    return (esper::test::referenceDir() + "/models").toStdString();
}
std::string tokenizers() {
    return (esper::test::dataDir() + "/tokenizers").toStdString();
}

} // namespace

class TestCaptioning : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;
    std::unique_ptr<Captioner> gpt2_;
    std::vector<CaptionStyle> styles_;

    std::string makeGpt2Bundle(const char* name, int64_t prefix = 4) {
        NewBundle b;
        b.dir = (tmp_.path() + "/" + name).toStdString();
        b.clip = models() + "/clip-tiny";
        b.clipTokenizer = tokenizers() + "/clip-tiny";
        b.lm = models() + "/gpt2-tiny";
        b.lmTokenizer = tokenizers() + "/gpt2-tiny";
        b.prefixLength = prefix;
        b.styles = {"caption", "news", "sns", "dialogue"};
        auto m = createBundle(b);
        if (!m) qFatal("%s", m.error().c_str());
        return b.dir;
    }

private slots:
    // Registry sizes are whole byte counts; a float (fuzzing found 5e129, undefined when cast)
    // or a negative one is refused by name.
    void registrySizesMustBeWholeBytes() {
        const std::string entry = R"({"models": [{"id": "x", "files": [{"name": "w", "size": )";
        QVERIFY(parseModelRegistry(entry + "12}]}]}", "r.json").ok());
        for (const char* size : {"5.247e129", "-3", "1.5"}) {
            auto r = parseModelRegistry(entry + size + "}]}]}", "r.json");
            QVERIFY2(!r.ok(), size);
            QVERIFY(QString::fromStdString(r.error()).contains("'w' must be a whole number"));
        }
    }

    void initTestCase() {
        const auto dir = makeGpt2Bundle("gpt2-bundle");
        auto c = Captioner::loadBundle(dir);
        ESPER_VERIFY_OK(c);
        gpt2_ = std::move(c.value());
        styles_ = gpt2_->bundleStyles();
        QCOMPARE(styles_.size(), size_t(4));
        QCOMPARE(styles_[3].prompt, std::string("dialogue: A:"));
        QVERIFY(QString::fromStdString(gpt2_->describe()).contains("gpt2"));
    }

    // A bundle may hold its language model compressed on the CPU (cpu_weights); an explicit
    // precision wins, and another device ignores it.
    void aBundleMayChooseCompressedWeightsOnTheCpu() {
        const auto dir = makeGpt2Bundle("int8-bundle");
        auto m = readBundleManifest(dir);
        ESPER_VERIFY_OK(m);
        m->cpuWeights = "int8";
        ESPER_VERIFY_OK(writeBundleManifest(m.value(), dir));
        auto chosen = Captioner::loadBundle(dir, "", "cpu", "");
        ESPER_VERIFY_OK(chosen);
        QVERIFY(QString::fromStdString(chosen.value()->computeDescription()).contains("int8"));
        auto full = Captioner::loadBundle(dir, "", "cpu", "fp32");
        ESPER_VERIFY_OK(full);
        QVERIFY(!QString::fromStdString(full.value()->computeDescription()).contains("weights"));
        const auto r = chosen.value()->caption(patternImage(32, 32, 3), "i", styles_, {});
        ESPER_VERIFY_OK(r);
        // A value it cannot use is refused by name.
        auto text = readTextFile(dir + "/esper.json");
        ESPER_VERIFY_OK(text);
        const auto at = text->find("\"int8\"");
        QVERIFY(at != std::string::npos);
        ESPER_VERIFY_OK(writeFileAtomic(dir + "/esper.json", text->replace(at, 6, "\"int4\"")));
        auto bad = readBundleManifest(dir);
        QVERIFY(!bad.ok());
        QVERIFY(QString::fromStdString(bad.error()).contains("cpu_weights"));
    }

    void stylePresetsComeFromResources() {
        QVERIFY(builtinStylePresets().size() >= 9);
        QCOMPARE(findStylePreset("sns")->prompt, std::string("sns:"));
        QCOMPARE(styleFromName("news").prompt, std::string("news:"));
        QCOMPARE(styleFromName("A photo of").prompt, std::string("A photo of"));
        QCOMPARE(findStylePreset("plain")->prompt, std::string()); // ClipCap: no prompt
        // A label or family of another type is an error, not an exception (fuzzing found it).
        const auto bad = parseStylePresets(
            R"({"styles": [{"id": "a", "prompt": "a:", "family": 7}]})", "styles.json");
        QVERIFY(!bad.ok());
        QVERIFY(QString::fromStdString(bad.error()).contains("family must be a string"));
    }

    void captionsAreDeterministicAndScored() {
        const RgbImage img = patternImage(48, 40, 1);
        CaptionOptions o; // ESPER's defaults: greedy, 20 tokens, EOS banned, no-repeat 2, '.'
        auto a = gpt2_->caption(img, "img1", styles_, o);
        auto b = gpt2_->caption(img, "img1", styles_, o);
        ESPER_VERIFY_OK(a);
        QVERIFY(b.ok());
        QCOMPARE(a->captions.size(), styles_.size());
        for (size_t i = 0; i < styles_.size(); ++i) {
            QCOMPARE(a->captions[i].tokens, b->captions[i].tokens);
            QCOMPARE(a->captions[i].text, b->captions[i].text);
            QVERIFY(a->captions[i].tokens.size() <= 20);
            QVERIFY(a->captions[i].text.find('.') == std::string::npos);
            const auto& s = a->captions[i].score;
            QCOMPARE(s.clipS, 2.5 * std::max(s.cosine, 0.0));
        }
        // Scores equal what score() gives for the same texts.
        std::vector<std::string> texts;
        for (const auto& c : a->captions)
            texts.push_back(c.text);
        auto scores = gpt2_->score(img, "img1", texts);
        QVERIFY(scores.ok());
        for (size_t i = 0; i < texts.size(); ++i)
            QVERIFY(std::abs(scores.value()[i].clipS - a->captions[i].score.clipS) < 1e-9);
    }

    void batchedStylesEqualOneAtATime() {
        const RgbImage img = patternImage(30, 50, 2);
        CaptionOptions o;
        auto together = gpt2_->caption(img, "img2", styles_, o);
        QVERIFY(together.ok());
        for (size_t i = 0; i < styles_.size(); ++i) {
            auto alone = gpt2_->caption(img, "img2", {styles_[i]}, o);
            QVERIFY(alone.ok());
            QCOMPARE(together->captions[i].tokens, alone->captions[0].tokens);
            QVERIFY(std::abs(together->captions[i].score.clipS - alone->captions[0].score.clipS) <
                    1e-5);
        }
    }

    void differentImagesGiveDifferentPrefixes() {
        CaptionOptions o;
        o.decode.stopStrings.clear();
        auto a = gpt2_->caption(patternImage(40, 40, 3), "a", {styles_[0]}, o);
        auto b = gpt2_->caption(patternImage(40, 40, 9), "b", {styles_[0]}, o);
        QVERIFY(a.ok() && b.ok());
        // The random mapper moves the tiny model's distribution, if not always its argmax.
        QVERIFY(a->captions[0].logprob != b->captions[0].logprob);
    }

    void bestOfNKeepsTheHighestScoringSample() {
        CaptionOptions o;
        o.decode.strategy = DecodeStrategy::Sample;
        o.decode.temperature = 0.7;
        o.decode.topK = 50;
        o.decode.bestOf = 6;
        o.decode.seed = 11;
        auto r = gpt2_->caption(patternImage(44, 36, 4), "img4", {styles_[0], styles_[1]}, o);
        ESPER_VERIFY_OK(r);
        for (const auto& c : r->captions) {
            QCOMPARE(c.alternatives.size(), size_t(6));
            double best = -1;
            std::set<std::string> distinct;
            for (const auto& [text, score] : c.alternatives) {
                best = std::max(best, score);
                distinct.insert(text);
            }
            QCOMPARE(c.score.clipS, best);
            QVERIFY(distinct.size() > 1); // the samples really differ
        }
    }

    void streamsTokensAndCancels() {
        CaptionOptions o;
        std::map<size_t, std::string> last;
        int events = 0;
        auto r = gpt2_->caption(patternImage(32, 32, 5), "img5", styles_, o,
                                [&](size_t style, int, const std::string& text) {
                                    ++events;
                                    last[style] = text;
                                });
        QVERIFY(r.ok());
        QVERIFY(events >= int(styles_.size()));
        for (size_t i = 0; i < styles_.size(); ++i)
            QCOMPARE(last[i], r->captions[i].text);

        std::atomic<bool> cancel{false};
        int afterCancel = 0;
        auto c = gpt2_->caption(
            patternImage(32, 32, 6), "img6", styles_, o,
            [&](size_t, int, const std::string&) {
                if (cancel) ++afterCancel;
                cancel = true;
            },
            &cancel);
        QVERIFY(!c.ok());
        QVERIFY(c.cancelled());
        QCOMPARE(afterCancel, int(styles_.size()) - 1); // only the rest of the step in flight
    }

    void referencesGiveRefClipS() {
        CaptionOptions o;
        o.references = {"a red circle", "a small square"};
        auto r = gpt2_->caption(patternImage(32, 32, 7), "img7", {styles_[0]}, o);
        QVERIFY(r.ok());
        QVERIFY(r->captions[0].score.refClipS.has_value());
        QVERIFY(r->captions[0].score.refCosine.has_value());
    }

    void reusesTheImageEmbedding() {
        const size_t before = gpt2_->scorer().cacheSize();
        const RgbImage img = patternImage(64, 20, 8);
        QVERIFY(gpt2_->caption(img, "img8", {styles_[0]}, {}).ok());
        QVERIFY(gpt2_->caption(img, "img8", {styles_[1]}, {}).ok());
        QCOMPARE(gpt2_->scorer().cacheSize(), before + 1);
    }

    void llamaBundleWithASentencepieceTokenizer() {
        ESPER_REQUIRE_SENTENCEPIECE();
        // A sentencepiece model trained here (ids 0/1/2 = unk/bos/eos, as llama-tiny expects).
        const std::string corpus = (tmp_.path() + "/corpus.txt").toStdString();
        std::string text;
        const char* lines[] = {"caption: a red bus on the street", "news: the city opened a park",
                               "sns: what a beautiful day", "story: once upon a time a boat",
                               "dialogue: A: what is this? B: a dog"};
        for (int i = 0; i < 200; ++i)
            text += std::string(lines[i % 5]) + " " + std::to_string(i) + "\n";
        QVERIFY(writeFileAtomic(corpus, text).ok());
        const std::string tokDir = (tmp_.path() + "/llama-tok").toStdString();
        QDir().mkpath(QString::fromStdString(tokDir));
        auto trained = SentencePieceTokenizer::train(corpus, tokDir + "/tokenizer", 70);
        ESPER_VERIFY_OK(trained);
        QVERIFY(QFile::exists(QString::fromStdString(tokDir + "/tokenizer.model")));
        NewBundle b;
        b.dir = (tmp_.path() + "/llama-bundle").toStdString();
        b.clip = models() + "/clip-tiny";
        b.clipTokenizer = tokenizers() + "/clip-tiny";
        b.lm = models() + "/llama-tiny";
        b.lmTokenizer = tokDir;
        b.prefixLength = 3;
        b.styles = {"caption", "news"};
        auto m = createBundle(b);
        ESPER_VERIFY_OK(m);
        auto c = Captioner::load(m.value());
        ESPER_VERIFY_OK(c);
        auto r = c.value()->caption(patternImage(40, 30, 1), "l1", c.value()->bundleStyles(), {});
        ESPER_VERIFY_OK(r);
        QCOMPARE(r->captions.size(), size_t(2));
        for (const auto& cap : r->captions) {
            QVERIFY(!cap.tokens.empty());
            for (int t : cap.tokens)
                QVERIFY(t != 2); // end-of-text banned by default
        }
        auto again =
            c.value()->caption(patternImage(40, 30, 1), "l1", c.value()->bundleStyles(), {});
        QCOMPARE(again->captions[0].tokens, r->captions[0].tokens);
    }

    void mapperKeysWithoutTheOfficialPrefixLoad() {
        // Official ESPER checkpoints name clip_project.model.*; bare model.* is accepted too.
        const auto dir = makeGpt2Bundle("bare-keys");
        const std::string mapper = dir + "/mapper.safetensors";
        auto file = SafetensorsFile::open(mapper);
        QVERIFY(file.ok());
        std::vector<std::vector<unsigned char>> copies;
        copies.reserve(file->tensors().size());
        std::vector<TensorBytes> bare;
        for (const auto& t : file->tensors()) {
            copies.emplace_back(file->bytes(t), file->bytes(t) + (t.end - t.begin));
            QVERIFY(t.name.rfind("clip_project.", 0) == 0);
            bare.push_back({t.name.substr(13), t.dtype, t.shape, copies.back().data()});
        }
        auto before = Captioner::loadBundle(dir);
        QVERIFY(before.ok());
        auto want = before.value()->caption(patternImage(30, 30, 2), "k", {styles_[0]}, {});
        QVERIFY(writeSafetensors(mapper, bare).ok());
        auto after = Captioner::loadBundle(dir);
        ESPER_VERIFY_OK(after);
        auto got = after.value()->caption(patternImage(30, 30, 2), "k", {styles_[0]}, {});
        QVERIFY(want.ok() && got.ok());
        QCOMPARE(got->captions[0].tokens, want->captions[0].tokens);
    }

    void loadErrorsSayWhatIsMissing() {
        // A model given by registry id that is not in the models folder.
        const QString dir = tmp_.path() + "/needs-download";
        QDir().mkpath(dir);
        QVERIFY(
            writeFileAtomic(
                (dir + "/esper.json").toStdString(),
                R"({"clip": "openai/clip-vit-base-patch32", "lm": "gpt2", "mapper": "mapper.safetensors"})")
                .ok());
        auto missing =
            readBundleManifest(dir.toStdString(), (tmp_.path() + "/models").toStdString());
        QVERIFY(!missing.ok());
        const QString msg = QString::fromStdString(missing.error());
        QVERIFY2(msg.contains("openai/clip-vit-base-patch32") && msg.contains("huggingface.co") &&
                     msg.contains("model.safetensors"),
                 qPrintable(msg));

        // A mapper trained for another prefix length.
        const auto wrongDir = makeGpt2Bundle("wrong-prefix", 4);
        auto manifest = readBundleManifest(wrongDir);
        QVERIFY(manifest.ok());
        manifest->prefixLength = 5;
        auto wrong = Captioner::load(manifest.value());
        QVERIFY(!wrong.ok());
        QVERIFY2(QString::fromStdString(wrong.error()).contains("does not fit"),
                 wrong.error().c_str());

        // No mapper file at all.
        QFile::remove(QString::fromStdString(wrongDir + "/mapper.safetensors"));
        auto noMapper = readBundleManifest(wrongDir);
        QVERIFY(!noMapper.ok());
        QVERIFY(QString::fromStdString(noMapper.error()).contains("mapper"));
        QVERIFY(!readBundleManifest("/nonexistent/bundle").ok());
    }
};

QTEST_GUILESS_MAIN(TestCaptioning)
#include "test_captioning.moc"
