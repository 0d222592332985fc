// Training on the synthetic world, shortened for CI: the project's CLIP must learn (loss falls,
// held-out retrieval well above chance), be deterministic for a seed, and load like any CLIP.
// The small CLIP, GPT-2 and mapper several functions share are trained once per run, by
// whichever function needs them first, so any function also runs alone
// (`test_training languageModelLearnsTheWorldsText`).
#include <ATen/ATen.h>

#include "test_support.h"

#include "bundle/bundle_builder.h"
#include "captioning/captioner.h"
#include "io/safetensors.h"
#include "models/causal_lm.h"
#include "models/clip.h"
#include "models/device.h"
#include "models/runtime.h"
#include "scoring/clip_scorer.h"
#include "text/sentencepiece_tokenizer.h"
#include "training/demo/demo_build.h"
#include "training/trainers/clip_pretrain.h"
#include "training/trainers/lm_pretrain.h"
#include "training/trainers/mapper_train.h"
#include "training/world/object_summaries.h"
#include "training/world/scene_feature_cache.h"
#include "training/world/world_batches.h"
#include "util/file_util.h"
#include "verify/model_check.h"
#include "world/captions.h"
#include "world/world_eval.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>

#include <QFile>
#include <QTemporaryDir>

using namespace esper;

namespace {
ClipPretrainOptions small(const QString& dir, int steps) {
    ClipPretrainOptions o;
    o.outDir = dir.toStdString();
    o.imageSize = 32;
    o.patchSize = 4;
    o.hidden = 64;
    o.layers = 2;
    o.heads = 4;
    o.projection = 32;
    o.tokenizerVocab = 300;
    o.trainScenes = 20000;
    o.train.steps = steps;
    o.train.batchSize = 64;
    o.train.learningRate = 1e-3;
    o.train.warmupSteps = 20;
    o.train.seed = 5;
    return o;
}
// Where a twin follows its scene in a CLIP batch (a twin keeps its scene's id).
std::vector<size_t> twinsIn(const SceneTexts& batch) {
    std::vector<size_t> at;
    for (size_t i = 0; i + 1 < batch.scenes.size(); ++i)
        if (batch.scenes[i].id == batch.scenes[i + 1].id) at.push_back(i);
    return at;
}

} // namespace

class TestTraining : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;
    std::optional<ClipPretrainReport> clip_;
    std::optional<LmPretrainReport> lm_;
    std::optional<MapperTrainReport> mapper_;

    QString clipDir() const { return tmp_.path() + "/clip"; }
    QString lmDir() const { return tmp_.path() + "/lm"; }
    QString mapperPath() const { return tmp_.path() + "/mapper.safetensors"; }

    // The shared models, trained on first use; null (with the reason logged) if training failed.
    const ClipPretrainReport* sharedClip() {
        if (!clip_) {
            auto r = pretrainClip(small(clipDir(), 400));
            if (!r) return qWarning("CLIP training failed: %s", r.error().c_str()), nullptr;
            clip_ = r.value();
        }
        return &*clip_;
    }
    const LmPretrainReport* sharedLm() {
        if (!lm_) {
            if (!sharedClip()) return nullptr; // its tokenizer is CLIP's
            LmPretrainOptions o;
            o.outDir = lmDir().toStdString();
            o.tokenizerPath = (clipDir() + "/tokenizer.model").toStdString();
            o.embd = 64;
            o.layers = 2;
            o.heads = 4;
            o.positions = 96;
            // Enough steps for it to learn to carry content over from what came before, which
            // is what lets a frozen LM follow a mapper's prefix.
            o.train.steps = 500;
            o.train.batchSize = 32;
            o.train.learningRate = 2e-3;
            o.train.warmupSteps = 10;
            o.train.seed = 3;
            auto r = pretrainLm(o);
            if (!r) return qWarning("GPT-2 training failed: %s", r.error().c_str()), nullptr;
            lm_ = r.value();
        }
        return &*lm_;
    }
    const MapperTrainReport* sharedMapper() {
        if (!mapper_) {
            if (!sharedLm()) return nullptr;
            auto r = trainSupervisedMapper(ciMapper("mapper.safetensors"));
            if (!r) return qWarning("mapper training failed: %s", r.error().c_str()), nullptr;
            mapper_ = r.value();
        }
        return &*mapper_;
    }

    // The CLIP and GPT-2 trained by the tests above, a CI-size mapper between them.
    MapperTrainOptions ciMapper(const QString& file) const {
        MapperTrainOptions o;
        o.clipDir = clipDir().toStdString();
        o.lmDir = lmDir().toStdString();
        o.outPath = (tmp_.path() + "/" + file).toStdString();
        o.prefixLength = 4;
        o.styles = {"caption"}; // the style whose text depends on the image the most
        o.train.steps = 250;
        o.train.batchSize = 32;
        o.train.learningRate = 1e-2;
        o.train.warmupSteps = 10;
        return o;
    }

private slots:
    void clipLearnsTheWorld() {
        const auto* report = sharedClip();
        QVERIFY(report);
        qInfo("CLIP (CI size): loss %.3f -> %.3f, held-out top-1 %.0f %% of %d in %.0f s",
              report->firstLoss, report->lastLoss, 100 * report->retrievalTop1, report->candidates,
              report->seconds);
        QVERIFY(report->lastLoss < report->firstLoss - 0.5);
        QVERIFY2(report->retrievalTop1 >= 0.05, "retrieval is not well above the 1 % of chance");
        // Colour is what contrastive training learns first; shape and size come much later.
        qInfo("CLIP (CI size): caption preferred over a changed shape %.2f, size %.2f, colour "
              "%.2f, swapped shapes %.2f (chance 0.5)",
              report->attributes.shape, report->attributes.size, report->attributes.colour,
              report->attributes.binding);
        QCOMPARE(report->attributes.scenes, report->probeScenes);
        QVERIFY2(report->attributes.colour >= 0.7, "CLIP does not tell colours apart");
        // The binding pairs cover exactly the probe scenes that have two objects to swap.
        const auto o = small(clipDir(), 400);
        int swappable = 0;
        std::mt19937_64 any(1);
        for (int i = 0; i < report->probeScenes; ++i)
            swappable += world::withSwappedShapes(
                             world::generateScene(o.worldSeed, o.heldOutFirst + uint64_t(i)), any)
                             .has_value();
        QCOMPARE(report->attributes.bindingScenes, swappable);
        QVERIFY(report->attributes.binding >= 0 && report->attributes.binding <= 1);
        // The folder is a CLIP like any other.
        auto scorer = ClipScorer::load(clipDir().toStdString());
        ESPER_VERIFY_OK(scorer);
        QCOMPARE(scorer.value()->embeddingSize(), int64_t(32));
    }

    void clipStartsAtItsInitialSpread() {
        // One step at a negligible learning rate leaves the weights where they started.
        for (const double spread : {0.03, 0.06}) {
            auto o = small(tmp_.path() + "/clip-spread-" + QString::number(spread), 1);
            o.initStd = spread;
            o.train.learningRate = 1e-12;
            QVERIFY(pretrainClip(o).ok());
            auto file = SafetensorsFile::open(o.outDir + "/model.safetensors");
            ESPER_VERIFY_OK(file);
            const TensorInfo* w = file->find("vision_model.encoder.layers.0.mlp.fc1.weight");
            QVERIFY(w && w->dtype == DType::F32);
            const auto* values = reinterpret_cast<const float*>(file->bytes(*w));
            double squares = 0;
            for (int64_t i = 0; i < w->numel(); ++i)
                squares += double(values[i]) * values[i];
            QVERIFY(std::abs(std::sqrt(squares / double(w->numel())) - spread) < 0.05 * spread);
            // config.json says so, as Hugging Face's CLIP configs do.
            auto config = readTextFile(o.outDir + "/config.json");
            QVERIFY(config.ok());
            const auto j = nlohmann::json::parse(config.value());
            QCOMPARE(j["vision_config"]["initializer_range"].get<double>(), spread);
            QCOMPARE(j["text_config"]["initializer_range"].get<double>(), spread);
        }
    }

    void clipBatchesPutTwinsBesideTheirScenes() {
        std::mt19937_64 rng(5);
        const auto plain = drawSceneTexts(1, 20000, 32, 0, rng);
        const auto b = drawSceneTexts(1, 20000, 32, 8, rng);
        QCOMPARE(int(plain.scenes.size()), 32);
        QCOMPARE(int(b.scenes.size()), 32);
        QCOMPARE(b.texts.size(), b.scenes.size());
        auto words = [](const std::string& text) {
            return QString::fromStdString(text).split(' ', Qt::SkipEmptyParts);
        };
        QVERIFY(twinsIn(plain).empty());
        const auto twins = twinsIn(b);
        QCOMPARE(int(twins.size()), 8);
        for (size_t i : twins) {
            const auto &a = b.scenes[i], &t = b.scenes[i + 1];
            // The same objects in the same places and colours; two of them trade shapes.
            QCOMPARE(t.objects.size(), a.objects.size());
            int moved = 0;
            for (size_t k = 0; k < a.objects.size(); ++k) {
                QCOMPARE(t.objects[k].color, a.objects[k].color);
                QCOMPARE(t.objects[k].size, a.objects[k].size);
                QCOMPARE(t.objects[k].cx, a.objects[k].cx);
                moved += t.objects[k].shape != a.objects[k].shape;
            }
            QCOMPARE(moved, 2);
            // Told with the same template: as many words, and not the same text.
            QCOMPARE(words(b.texts[i + 1]).size(), words(b.texts[i]).size());
            QVERIFY(b.texts[i + 1] != b.texts[i]);
        }
    }

    void clipBatchesPutAttributeTwinsBesideTheirScenes() {
        std::mt19937_64 rng(7);
        const auto b = drawSceneTexts(1, 20000, 128, 48, rng, world::TwinKind::ChangedAttribute);
        QCOMPARE(int(b.scenes.size()), 128);
        int sizes = 0;
        const auto twins = twinsIn(b);
        for (size_t i : twins) {
            const auto &a = b.scenes[i], &t = b.scenes[i + 1];
            // One object differs in one attribute, in the same place; the text says so.
            int changed = 0;
            for (size_t k = 0; k < a.objects.size(); ++k) {
                const auto &x = a.objects[k], &y = t.objects[k];
                QCOMPARE(y.cx, x.cx);
                changed += (x.shape != y.shape) + (x.color != y.color) + (x.size != y.size);
                sizes += x.size != y.size;
            }
            QCOMPARE(changed, 1);
            QVERIFY(b.texts[i + 1] != b.texts[i]);
        }
        QCOMPARE(int(twins.size()), 48);
        QVERIFY2(sizes > 12 && sizes < 36, qPrintable(QString::number(sizes))); // about half
    }

    void languageModelLearnsTheWorldsText() {
        const auto* r = sharedLm();
        QVERIFY(r);
        qInfo("GPT-2 (CI size): loss %.3f -> %.3f, held-out perplexity %.2f, context loss %.3f "
              "(%.3f after another scene's text), copy F1 %.3f in %.0f s",
              r->firstLoss, r->lastLoss, r->heldOutPerplexity, r->contextLoss, r->otherContextLoss,
              r->copyF1, r->seconds);
        qInfo("  its caption after object summaries: F1 %.3f, %.3f mispaired", r->summaryF1,
              r->summaryMispaired);
        // It learnt to read them (0.60 at CI size; an LM never shown them scores near 0).
        QVERIFY(r->summaryF1 > 0.4);
        QVERIFY(r->lastLoss < r->firstLoss - 1.5);
        QVERIFY(r->heldOutPerplexity < 20); // the vocabulary has 300 tokens
        // It reads its context: a text is likelier after one about the same scene (~0.05 at CI
        // size; the demo's steps reach ~1, when copying takes hold).
        QVERIFY(r->contextLoss < r->otherContextLoss - 0.02);
        // The folder loads as a GPT-2 language model.
        auto check = inspectModel(lmDir().toStdString());
        ESPER_VERIFY_OK(check);
        QCOMPARE(check->family, std::string("gpt2"));
    }

    // Each summary position is one of the scene's objects, the sum of its words' embeddings in
    // the shared LM; every object has one, nothing else does.
    void objectSummariesHoldEachObjectOfTheScene() {
        QVERIFY(sharedLm());
        const std::string dir = lmDir().toStdString();
        auto lm = loadCausalLm(dir, {});
        ESPER_VERIFY_OK(lm);
        auto tok = SentencePieceTokenizer::load(dir + "/tokenizer.model");
        QVERIFY(tok.ok());
        // One scene of each size, then the next one.
        std::vector<world::Scene> scenes;
        std::set<size_t> sizes;
        for (uint64_t i = 500; scenes.size() < 4; ++i)
            if (auto s = world::generateScene(1, i);
                sizes.insert(s.objects.size()).second || sizes.size() == 3)
                scenes.push_back(s);
        std::mt19937_64 rng(3);
        const at::Tensor summaries = objectSummaries(*lm.value(), *tok.value(), scenes, 10, rng);
        QCOMPARE(summaries.sizes().vec(), (std::vector<int64_t>{4, 10, lm.value()->hiddenSize()}));
        for (size_t i = 0; i < scenes.size(); ++i) {
            std::vector<at::Tensor> objects;
            for (const auto& o : scenes[i].objects) {
                const auto ids = tok.value()->encode(" " + world::sizeNames()[int(o.size)] + " " +
                                                     world::colorNames()[int(o.color)] + " " +
                                                     world::shapeNames()[int(o.shape)]);
                objects.push_back(
                    lm.value()
                        ->embed(at::tensor(std::vector<int64_t>(ids.begin(), ids.end()), at::kLong))
                        .sum(0));
            }
            std::vector<int> seen(objects.size(), 0);
            for (int64_t p = 0; p < 10; ++p) {
                const at::Tensor v = summaries[static_cast<int64_t>(i)][p];
                int match = -1;
                for (size_t k = 0; k < objects.size(); ++k)
                    if (at::allclose(v, objects[k])) match = static_cast<int>(k);
                QVERIFY2(match >= 0, "a summary position holds no object of its scene");
                ++seen[static_cast<size_t>(match)];
            }
            QVERIFY(std::all_of(seen.begin(), seen.end(), [](int n) { return n > 0; }));
        }
        // The order and the repeats are drawn: another draw differs.
        std::mt19937_64 other(4);
        QVERIFY(
            !at::equal(summaries, objectSummaries(*lm.value(), *tok.value(), scenes, 10, other)));
        // More objects than positions is refused, not truncated.
        QVERIFY_EXCEPTION_THROWN(objectSummaries(*lm.value(), *tok.value(), scenes, 2, rng),
                                 c10::Error);
    }

    void supervisedMapperTrainsBetweenFrozenModels() {
        const auto* r = sharedMapper();
        QVERIFY(r);
        qInfo("supervised mapper (CI size): loss %.3f -> %.3f, held out %.3f (%.3f with another "
              "scene's image) in %.0f s",
              r->firstLoss, r->lastLoss, r->heldOutLoss, r->heldOutMismatchedLoss, r->seconds);
        QVERIFY(r->lastLoss < r->firstLoss);
        // The prefix carries the image: the right image predicts its texts better (the same
        // texts both times, so a mapper that ignored its input would score exactly the same).
        // At CI size the gap is ~0.01; the demo's full-size models reach ~0.1.
        QVERIFY(r->heldOutLoss < r->heldOutMismatchedLoss - 0.005);
        QVERIFY(QFile::exists(mapperPath()));
    }

    void sceneFeaturesAreEncodedOnceEach() {
        QVERIFY(sharedClip());
        auto clip = ClipModel::load(clipDir().toStdString(), {});
        ESPER_VERIFY_OK(clip);
        const auto scene = [](uint64_t i) { return world::generateScene(1, i); };
        SceneFeatureCache cache(*clip.value(), 32);
        const at::Tensor first = cache.features({scene(3), scene(5), scene(3)});
        QCOMPARE(cache.size(), size_t(2));
        at::Tensor direct;
        {
            c10::NoGradGuard noGrad;
            direct = clip.value()->encodeImage(scenePixels({scene(3), scene(5)}, 32)).features;
        }
        QVERIFY(at::allclose(first.slice(0, 0, 2), direct, 1e-5, 1e-6));
        QVERIFY(at::equal(first[0], first[2]));
        const at::Tensor next = cache.features({scene(7), scene(5)});
        QCOMPARE(cache.size(), size_t(3));
        QVERIFY(at::equal(next[1], first[1])); // kept, not encoded again
        QVERIFY(!at::allclose(next[0], first[1]));
    }

    void groundTruthMapperMeasuresTheLanguageModelAlone() {
        // The shared mapper's recipe, given each scene's ground truth instead of CLIP's embedding.
        QVERIFY(sharedLm());
        auto o = ciMapper("ground-truth-mapper.safetensors");
        o.groundTruth = true;
        auto r = trainSupervisedMapper(o);
        ESPER_VERIFY_OK(r);
        qInfo("ground-truth mapper (CI size): held out %.3f (%.3f with another scene's), "
              "caption F1 %.3f",
              r->heldOutLoss, r->heldOutMismatchedLoss,
              r->groundTruthCaptions ? r->groundTruthCaptions->f1 : -1.0);
        QVERIFY(r->heldOutLoss < r->heldOutMismatchedLoss - 0.005);
        QVERIFY(r->groundTruthCaptions.has_value());
        const auto& g = *r->groundTruthCaptions;
        QCOMPARE(g.scenes, 200);
        QCOMPARE(g.samples.size(), size_t(200));
        // Each caption is read back against its own held-out scene.
        double f1 = 0;
        for (size_t i = 0; i < g.samples.size(); ++i) {
            QCOMPARE(g.samples[i].scene, o.heldOutFirst + i);
            const auto check = world::checkCaption(
                g.samples[i].caption, world::generateScene(o.worldSeed, g.samples[i].scene));
            QCOMPARE(g.samples[i].f1, check.f1());
            f1 += check.f1();
        }
        QVERIFY(std::abs(g.f1 - f1 / 200) < 1e-12);
        // The binding probe asks about every object of a two- or three-object scene whose
        // colour is its own; chance is naming one of its scene's shapes at random.
        QVERIFY(r->groundTruthBinding.has_value());
        int objects = 0;
        double chance = 0;
        for (uint64_t i = 0; i < 200; ++i) {
            const auto scene = world::generateScene(o.worldSeed, o.heldOutFirst + i);
            if (scene.objects.size() < 2) continue;
            std::set<world::Shape> shapes;
            for (const auto& x : scene.objects)
                shapes.insert(x.shape);
            for (const auto& x : scene.objects)
                if (std::count_if(scene.objects.begin(), scene.objects.end(),
                                  [&](const auto& y) { return y.color == x.color; }) == 1) {
                    ++objects;
                    chance += 1.0 / double(shapes.size());
                }
        }
        QVERIFY(objects > 0);
        QCOMPARE(r->groundTruthBinding->objects, objects);
        QVERIFY(std::abs(r->groundTruthBinding->chance - chance / objects) < 1e-12);
        QVERIFY(r->groundTruthBinding->accuracy >= 0 && r->groundTruthBinding->accuracy <= 1);
        // The CLIP-fed mapper reports no such captions.
        o.groundTruth = false;
        o.train.steps = 1;
        auto plain = trainSupervisedMapper(o);
        QVERIFY(plain.ok() && !plain->groundTruthCaptions && !plain->groundTruthBinding);
    }

    void worldEvaluationReadsTheCaptionsBack() {
        // The shared models and mapper, as a bundle of two styles.
        QVERIFY(sharedMapper());
        NewBundle spec;
        spec.dir = (tmp_.path() + "/bundle").toStdString();
        spec.clip = clipDir().toStdString();
        spec.lm = lmDir().toStdString();
        spec.prefixLength = 4;
        spec.styles = {"caption", "news"};
        // Not the default decoding, so an evaluation that ignored the bundle's would show.
        spec.decoding.maxNewTokens = 4;
        spec.decoding.noRepeatNgram = 0;
        auto made = createBundle(spec);
        ESPER_VERIFY_OK(made);
        std::filesystem::copy_file(mapperPath().toStdString(), made->mapperPath,
                                   std::filesystem::copy_options::overwrite_existing);
        world::WorldEvalOptions o;
        o.bundleDir = spec.dir;
        o.scenes = 4;
        o.imageSize = 32;
        auto r = world::evaluateOnWorld(o);
        ESPER_VERIFY_OK(r);
        QCOMPARE(r->styles.size(), size_t(2));
        QCOMPARE(r->styles[1].style, std::string("news"));
        QCOMPARE(r->perScene.size(), size_t(4));
        double f1 = 0;
        std::array<double, 3> f1ByObjects{};
        std::array<int, 3> byObjects{};
        int named = 0, mispaired = 0;
        for (const auto& scene : r->perScene) {
            const auto truth = world::generateScene(o.worldSeed, scene.scene);
            const auto check = world::checkCaption(scene.captions[0], truth);
            QCOMPARE(scene.f1[0], check.f1());
            named += check.mentioned;
            mispaired += check.mispaired;
            f1 += scene.f1[0] / 4;
            ++byObjects[truth.objects.size() - 1];
            f1ByObjects[truth.objects.size() - 1] += scene.f1[0];
        }
        QCOMPARE(r->styles[0].f1, f1);
        // The captions are the ones `esper caption` and the studio show: the bundle's decoding.
        auto captioner = Captioner::loadBundle(spec.dir);
        ESPER_VERIFY_OK(captioner);
        const auto image = world::renderScene(world::generateScene(o.worldSeed, o.firstScene),
                                              o.imageSize, o.imageSize);
        const auto styles = captioner.value()->bundleStyles();
        CaptionOptions asBundled, defaults;
        asBundled.decode = captioner.value()->bundle().decoding;
        const auto shown = captioner.value()->caption(image, "first", styles, asBundled);
        const auto plain = captioner.value()->caption(image, "first", styles, defaults);
        QVERIFY(shown.ok() && plain.ok());
        QCOMPARE(r->perScene.front().captions[0], shown->captions[0].text);
        QVERIFY(plain->captions[0].text != shown->captions[0].text);
        QCOMPARE(r->styles[0].objectsStated, named);
        QCOMPARE(r->styles[0].mispaired, named ? double(mispaired) / named : 0.0);
        QCOMPARE(r->scenesByObjects, byObjects);
        for (size_t k = 0; k < 3; ++k) // each group's mean, and 0 for a group with no scene
            QCOMPARE(r->styles[0].f1ByObjects[k], f1ByObjects[k] / std::max(byObjects[k], 1));
        for (const auto& s : r->styles) {
            QVERIFY(s.f1 >= 0 && s.f1 <= 1 && s.bleu4 >= 0 && s.bleu4 <= 1);
            QVERIFY(s.clipS >= 0 && s.clipS <= 2.5);
        }
        // The mean pools sizes over the styles that state them.
        int sizes = 0;
        double sizesRight = 0;
        for (const auto& s : r->styles) {
            sizes += s.sizesStated;
            sizesRight += s.sizeAccuracy * s.sizesStated;
        }
        QCOMPARE(r->mean().sizesStated, sizes);
        QVERIFY(std::abs(r->mean().sizeAccuracy - (sizes ? sizesRight / sizes : 0.0)) < 1e-12);
        QVERIFY(r->table().find("news") != std::string::npos);
        QVERIFY(r->json().find("\"object_f1\"") != std::string::npos);
        QVERIFY(r->json().find("\"object_f1_by_objects\"") != std::string::npos);

        // The copy probe of the bundle's LM: the figure pretrain lm printed for it, and one
        // checked sample per held-out scene.
        o.lmDir = spec.lm;
        o.scenes = 1;
        auto withLm = world::evaluateOnWorld(o);
        ESPER_VERIFY_OK(withLm);
        QVERIFY(withLm->lmCopy.has_value());
        QCOMPARE(withLm->lmCopy->scenes, world::kCopyScenes);
        QCOMPARE(withLm->lmCopy->samples.size(), size_t(world::kCopyScenes));
        QCOMPARE(withLm->lmCopy->f1, sharedLm()->copyF1);
        const auto& first = withLm->lmCopy->samples.front();
        QCOMPARE(first.f1,
                 world::checkCaption(first.caption, world::generateScene(o.worldSeed, first.scene))
                     .f1());
        QVERIFY(withLm->json().find("\"copy_f1\"") != std::string::npos);
    }

    void deterministicForASeed() {
        // Each step's two halves ran on two cores for one and in turn on one core for the other:
        // the build switches when the LM leaves a core free, and that must not show.
        auto both = small(tmp_.path() + "/a", 5);
        both.secondCoreFree = [] { return true; };
        auto one = small(tmp_.path() + "/b", 5);
        one.secondCoreFree = [] { return false; };
        auto a = pretrainClip(both);
        auto b = pretrainClip(one);
        QVERIFY(a.ok() && b.ok());
        QCOMPARE(a->lastLoss, b->lastLoss);
        auto fa = readTextFile((tmp_.path() + "/a/model.safetensors").toStdString());
        auto fb = readTextFile((tmp_.path() + "/b/model.safetensors").toStdString());
        QVERIFY(fa.ok() && fb.ok());
        QVERIFY(fa.value() == fb.value());
    }

    void demoBuildKeepsTheLmThatCopiesBest() {
        DemoBuildOptions o;
        o.outDir = (tmp_.path() + "/demo").toStdString();
        o.clipSteps = 10;
        o.lmSteps = 20;
        o.mapperSteps = 10;
        o.evalScenes = 4;
        auto r = buildDemo(o);
        ESPER_VERIFY_OK(r);
        // After 20 steps no LM copies, so every candidate trains and the best is kept.
        QVERIFY(r->lmCandidateCopyF1.front() < o.lmCopies);
        QCOMPARE(r->lmCandidateCopyF1.size(), size_t(o.lmCandidates));
        QCOMPARE(r->lmCandidateCopyF1[size_t(r->lmChosen)],
                 *std::max_element(r->lmCandidateCopyF1.begin(), r->lmCandidateCopyF1.end()));
        // The bundle's LM is that candidate: the same training on its own gives the same bytes.
        LmPretrainOptions lm;
        lm.outDir = (tmp_.path() + "/demo-lm-again").toStdString();
        lm.tokenizerPath = o.outDir + "/clip/tokenizer.model";
        lm.embd = o.lmWidth;
        lm.layers = o.lmLayers;
        lm.positions = 96;
        lm.train.steps = o.lmSteps;
        lm.train.batchSize = 32;
        lm.train.learningRate = 2e-3;
        lm.train.warmupSteps = 30;
        lm.train.seed = o.seed + uint64_t(r->lmChosen);
        {
            const BlasThreadsScope oneEach(1); // as the build trains it beside CLIP
            QVERIFY(pretrainLm(lm).ok());
        }
        const auto shipped = readTextFile(o.outDir + "/lm/model.safetensors");
        const auto again = readTextFile(lm.outDir + "/model.safetensors");
        QVERIFY(shipped.ok() && again.ok());
        QVERIFY2(shipped.value() == again.value(), "the bundle's LM is not the chosen candidate");
        // Its copy F1 in the report is the one on the held-out scenes, as evaluated.
        QVERIFY(r->evaluation.find("\"copy_f1\"") != std::string::npos);
        QVERIFY(!std::filesystem::exists(o.outDir + "/.work"));
    }

    void cancelStopsTraining() {
        auto o = small(tmp_.path() + "/cancel", 1000);
        std::atomic<bool> cancel{false};
        int seen = 0;
        o.train.cancel = &cancel;
        o.train.onProgress = [&](int step, int, double, double) {
            seen = step;
            if (step == 3) cancel = true;
        };
        auto r = pretrainClip(o);
        QVERIFY(r.ok());
        QCOMPARE(r->steps, 3);
        QCOMPARE(seen, 3);
    }
};

QTEST_GUILESS_MAIN(TestTraining)
#include "test_training.moc"
