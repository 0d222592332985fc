// GPT-2 and CLIP BPE against OpenAI's reference tokenizers, and sentencepiece on a model trained
// here.
#include "test_support.h"

#include "text/clip_tokenizer.h"
#include "text/gpt2_tokenizer.h"
#include "text/sentencepiece_tokenizer.h"
#include "util/file_util.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

using namespace esper;

namespace {
std::vector<int> ints(const QJsonArray& a) {
    std::vector<int> v;
    for (const auto& x : a)
        v.push_back(x.toInt());
    return v;
}
} // namespace

class TestTokenizers : public QObject {
    Q_OBJECT

    std::unique_ptr<Gpt2Tokenizer> gpt2_;
    std::unique_ptr<ClipTokenizer> clip_;
    QJsonArray cases_;

    void requireVocab() {
        const QString vocab = esper::test::sharedReferenceDir() + "/vocab";
        ESPER_REQUIRE_SHARED(vocab + "/gpt2/encoder.json");
        ESPER_REQUIRE_SHARED(vocab + "/clip/bpe_simple_vocab_16e6.txt.gz");
        if (!gpt2_) {
            auto g = Gpt2Tokenizer::load((vocab + "/gpt2/encoder.json").toStdString(),
                                         (vocab + "/gpt2/vocab.bpe").toStdString());
            ESPER_VERIFY_OK(g);
            gpt2_ = std::move(g.value());
            auto c = ClipTokenizer::loadOpenAi(
                (vocab + "/clip/bpe_simple_vocab_16e6.txt.gz").toStdString());
            ESPER_VERIFY_OK(c);
            clip_ = std::move(c.value());
        }
    }

private slots:
    void initTestCase() {
        auto text = readTextFile(
            (esper::test::referenceDir() + "/tokenizers/tokenizer_cases.json").toStdString());
        QVERIFY(text.ok());
        cases_ = QJsonDocument::fromJson(QByteArray::fromStdString(text.value()))
                     .object()["cases"]
                     .toArray();
        QVERIFY(cases_.size() >= 20);
    }

    // Vocabulary ids index a dense table: a huge or negative one is refused by name, not
    // allocated (10^9 took gigabytes; 2^31 - 1 overflowed into a length_error abort).
    void hugeOrNegativeVocabularyIdsAreRefused() {
        QTemporaryDir dir;
        const std::string vocab = (dir.path() + "/vocab.json").toStdString();
        const std::string merges = (dir.path() + "/merges.txt").toStdString();
        QVERIFY(writeFileAtomic(merges, "#version: 0.2\na b\n").ok());
        for (const std::string id : {"1000000000", "2147483647", "4294967296", "-1", "16777216"}) {
            QVERIFY(writeFileAtomic(vocab, "{\"a\": 0, \"b\": 1, \"ab\": " + id + "}").ok());
            auto gpt2 = Gpt2Tokenizer::load(vocab, merges);
            auto clip = ClipTokenizer::loadHf(vocab, merges);
            QVERIFY2(!gpt2.ok() && !clip.ok(), id.c_str());
            for (const std::string& error : {gpt2.error(), clip.error()})
                QVERIFY2(error.find("vocab.json") != std::string::npos &&
                             error.find("'ab'") != std::string::npos &&
                             error.find(id) != std::string::npos,
                         error.c_str());
        }
        // The largest id allowed still loads.
        QVERIFY(writeFileAtomic(vocab, "{\"a\": 0, \"b\": 1, \"ab\": 16777215}").ok());
        QVERIFY(Gpt2Tokenizer::load(vocab, merges).ok());
    }

    void gpt2MatchesReference() {
        requireVocab();
        QCOMPARE(gpt2_->vocabSize(), size_t(50257));
        for (const auto& c : cases_) {
            const auto o = c.toObject();
            const auto text = o["text"].toString().toStdString();
            QCOMPARE(gpt2_->encode(text), ints(o["gpt2"].toArray()));
            QCOMPARE(gpt2_->decode(gpt2_->encode(text)), text); // byte-level BPE is lossless
        }
    }

    void gpt2SpecialsAndKnownIds() {
        requireVocab();
        QCOMPARE(gpt2_->encode("Hello world"), (std::vector<int>{15496, 995}));
        QCOMPARE(gpt2_->encode(" Hello world"), (std::vector<int>{18435, 995}));
        QCOMPARE(gpt2_->encode("a<|endoftext|>b", true), (std::vector<int>{64, 50256, 65}));
        QVERIFY(gpt2_->encode("<|endoftext|>", false).size() > 1);
        QCOMPARE(gpt2_->endOfTextId(), 50256);
    }

    void gpt2PreTokenizerKeepsTheLookaheadRule() {
        // \s+(?!\S) leaves the last space of a run to the next word.
        QCOMPARE(gpt2PreTokenize("a   b"), (std::vector<std::string>{"a", "  ", " b"}));
        // A lone tab before a letter is not " ?\p{L}+" (that takes only a space): it stands alone.
        QCOMPARE(gpt2PreTokenize("x\t\ty "), (std::vector<std::string>{"x", "\t", "\t", "y", " "}));
        QCOMPARE(gpt2PreTokenize("I'll 42!?"), (std::vector<std::string>{"I", "'ll", " 42", "!?"}));
    }

    void clipMatchesReference() {
        requireVocab();
        QCOMPARE(clip_->vocabSize(), size_t(49408));
        for (const auto& c : cases_) {
            const auto o = c.toObject();
            const auto text = o["text"].toString().toStdString();
            const auto ids = clip_->encode(text);
            QCOMPARE(ids, ints(o["clip"].toArray()));
            QCOMPARE(QString::fromStdString(clip_->decode(ids)), o["clip_decoded"].toString());
        }
    }

    void clipModelSequence() {
        requireVocab();
        QCOMPARE(clip_->encodeForModel("hello world"),
                 (std::vector<int>{49406, 3306, 1002, 49407}));
        std::string longText;
        for (int i = 0; i < 100; ++i)
            longText += "dog ";
        const auto ids = clip_->encodeForModel(longText);
        QCOMPARE(ids.size(), size_t(77));
        QCOMPARE(ids.front(), 49406);
        QCOMPARE(ids.back(), 49407);
        QCOMPARE(clip_->encode("&amp;lt;"), clip_->encode("<")); // html.unescape, applied twice
    }

    void sentencepieceTrainsEncodesAndRoundTrips() {
        ESPER_REQUIRE_SENTENCEPIECE();
        QTemporaryDir dir;
        std::string corpus;
        const char* words[] = {"red",  "blue",  "circle", "square", "small", "large",
                               "left", "right", "a",      "the",    "of",    "is"};
        for (int i = 0; i < 400; ++i)
            corpus += std::string("caption: a ") + words[i % 12] + " " + words[(i * 7) % 12] + " " +
                      words[(i * 5) % 12] + " shape\n";
        const std::string input = (dir.path() + "/corpus.txt").toStdString();
        QVERIFY(writeFileAtomic(input, corpus).ok());
        const std::string prefix = (dir.path() + "/spm").toStdString();
        auto trained = SentencePieceTokenizer::train(input, prefix, 60, "--model_type=bpe");
        ESPER_VERIFY_OK(trained);
        auto spm = SentencePieceTokenizer::load(prefix + ".model");
        ESPER_VERIFY_OK(spm);
        QCOMPARE((*spm)->vocabSize(), size_t(60));
        for (const char* text : {"caption: a red circle", "the large blue square is left",
                                 "the small red shape is left of a circle"}) {
            const auto ids = (*spm)->encode(text);
            QVERIFY(!ids.empty());
            QCOMPARE((*spm)->decode(ids), std::string(text));
        }
        // Characters the model never saw map to <unk>.
        const auto unknown = (*spm)->encode("zzz");
        QVERIFY(std::find(unknown.begin(), unknown.end(), (*spm)->unkId()) != unknown.end());
        // Specials are split out and inserted as ids; BOS is prepended on request.
        const auto ids = (*spm)->encodeWithSpecials("<s>red</s>", true);
        QCOMPARE(ids.front(), (*spm)->bosId());
        QCOMPARE(ids[1], (*spm)->bosId());
        QCOMPARE(ids.back(), (*spm)->eosId());
        auto missing = SentencePieceTokenizer::load(prefix + ".nope");
        QVERIFY(!missing.ok());
        QVERIFY(QString::fromStdString(missing.error()).contains("does not exist"));
    }
};

QTEST_GUILESS_MAIN(TestTokenizers)
#include "test_tokenizers.moc"
