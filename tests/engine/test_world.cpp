// The synthetic world: deterministic scenes and pixels, text in every style, and a caption
// checker that credits right captions and catches wrong ones.
// ATen before Qt: Qt's `slots` keyword would break ATen's headers.
#include <ATen/ATen.h>

#include "test_support.h"

#include "world/captions.h"
#include "world/lm_probes.h"
#include "world/scene.h"
#include "world/scene_features.h"
#include "world/scene_sound.h"

#include <cmath>
#include <set>

using namespace esper::world;

class TestWorld : public QObject {
    Q_OBJECT

    // The power of `samples` at `hz` (Goertzel), over [from, to).
    static double powerAt(const std::vector<float>& samples, size_t from, size_t to, double hz,
                          int rate) {
        const double w = 2 * M_PI * hz / rate, c = 2 * std::cos(w);
        double s1 = 0, s2 = 0;
        for (size_t i = from; i < to; ++i) {
            const double s0 = samples[i] + c * s1 - s2;
            s2 = s1;
            s1 = s0;
        }
        return s1 * s1 + s2 * s2 - c * s1 * s2;
    }

private slots:
    // A scene's sound is the same every time, and carries what the scene holds: a lone object
    // sounds at its colour's pitch, when its place says, with its shape's partials.
    void sceneSoundsCarryTheirContent() {
        const Scene a = generateScene(1, 5);
        QCOMPARE(renderSceneSound(a).samples, renderSceneSound(a).samples);
        QCOMPARE(renderSceneSound(a).samples.size(), size_t(2 * 16000));
        QVERIFY(renderSceneSound(generateScene(1, 6)).samples != renderSceneSound(a).samples);
        for (int color = 0; color < 8; ++color)
            for (int shape = 0; shape < 4; ++shape) {
                Scene one;
                one.id = 1;
                one.objects.push_back(
                    {Shape(shape), Color(color), Size::Large, Place::Center, 0.5f, 0.5f, 0.2f});
                const auto clip = renderSceneSound(one);
                // The tone starts at 0.05 + 1.2 · 0.5 s and lasts 0.6 s.
                const size_t from = size_t(0.7 * 16000), to = size_t(1.2 * 16000);
                const double pitch = colorPitch(Color(color));
                const double at = powerAt(clip.samples, from, to, pitch, 16000);
                // Its pitch is its lowest partial: nothing at a lower colour's pitch (higher
                // ones may hold its harmonics: colours four apart are an octave apart), and
                // silence before it starts.
                for (int other = 0; other < color; ++other)
                    QVERIFY(at >
                            10 * powerAt(clip.samples, from, to, colorPitch(Color(other)), 16000));
                QVERIFY(at > 1000 * powerAt(clip.samples, 0, 8000, pitch, 16000));
                // The shape's partials: a square has a third harmonic and no second; a triangle
                // both; a circle neither.
                const double second = powerAt(clip.samples, from, to, 2 * pitch, 16000) / at;
                const double third = powerAt(clip.samples, from, to, 3 * pitch, 16000) / at;
                if (Shape(shape) == Shape::Circle) QVERIFY(second < 1e-3 && third < 1e-3);
                if (Shape(shape) == Shape::Square) QVERIFY(second < 1e-3 && third > 0.1);
                if (Shape(shape) == Shape::Triangle) QVERIFY(second > 0.1 && third > 0.1);
                if (Shape(shape) == Shape::Diamond) QVERIFY(second > 0.1 && third < 1e-3);
            }
    }

    void scenesAreDeterministicPerSeedAndIndex() {
        const Scene a = generateScene(7, 42), b = generateScene(7, 42);
        QCOMPARE(sceneJson(a), sceneJson(b));
        QCOMPARE(renderScene(a).pixels, renderScene(b).pixels);
        QVERIFY(sceneJson(generateScene(8, 42)) != sceneJson(a));
        QVERIFY(sceneJson(generateScene(7, 43)) != sceneJson(a));
    }

    void scenesHaveOneToThreeDistinctObjectsAndConsistentRelations() {
        std::set<size_t> counts;
        for (uint64_t i = 0; i < 300; ++i) {
            const Scene s = generateScene(1, i);
            QVERIFY(s.objects.size() >= 1 && s.objects.size() <= 3);
            counts.insert(s.objects.size());
            std::set<std::pair<int, int>> kinds;
            for (const auto& o : s.objects)
                QVERIFY(kinds.insert({int(o.shape), int(o.color)}).second);
            for (const auto& r : s.relations) {
                const auto &A = s.objects[r.a], &B = s.objects[r.b];
                switch (r.relation) {
                case Relation::LeftOf:
                    QVERIFY(A.cx < B.cx);
                    break;
                case Relation::RightOf:
                    QVERIFY(A.cx > B.cx);
                    break;
                case Relation::Above:
                    QVERIFY(A.cy < B.cy);
                    break;
                case Relation::Below:
                    QVERIFY(A.cy > B.cy);
                    break;
                }
            }
        }
        QCOMPARE(counts.size(), size_t(3));
    }

    void objectsNeverOverlap() {
        // Shape is only learnable where the whole outline is visible.
        for (uint64_t i = 0; i < 300; ++i) {
            const Scene s = generateScene(2, i);
            for (size_t a = 0; a < s.objects.size(); ++a)
                for (size_t b = a + 1; b < s.objects.size(); ++b)
                    for (int y = 0; y < 200; ++y)
                        for (int x = 0; x < 200; ++x) {
                            const float fx = (x + 0.5f) / 200, fy = (y + 0.5f) / 200;
                            QVERIFY(
                                !(covers(s.objects[a], fx, fy) && covers(s.objects[b], fx, fy)));
                        }
        }
    }

    void renderingDrawsTheObjectsInTheirColours() {
        Scene s = generateScene(3, 5);
        const auto img = renderScene(s, 64, 64);
        QCOMPARE(img.width, 64);
        QCOMPARE(img.pixels.size(), size_t(64 * 64 * 3));
        for (const auto& o : s.objects) {
            // The pixel at each object's centre carries its colour (within the noise).
            const int x = int(o.cx * 64), y = int(o.cy * 64);
            const uint8_t* p = img.row(y) + x * 3;
            const std::string colour = colorNames()[size_t(o.color)];
            if (colour == "red") QVERIFY(p[0] > 180 && p[1] < 90);
            if (colour == "blue") QVERIFY(p[2] > 180 && p[0] < 90);
            if (colour == "white") QVERIFY(p[0] > 220 && p[1] > 220 && p[2] > 220);
            if (colour == "black") QVERIFY(p[0] < 45 && p[1] < 45 && p[2] < 45);
        }
    }

    void everyStyleDescribesTheSceneCorrectly() {
        std::mt19937_64 rng(5);
        std::set<std::string> distinct;
        for (uint64_t i = 0; i < 200; ++i) {
            const Scene s = generateScene(2, i);
            for (const auto& style : worldStyles()) {
                const std::string text = describeScene(s, style, rng);
                distinct.insert(text);
                const auto check = checkCaption(text, s);
                QVERIFY2(check.mentioned > 0, text.c_str());
                QVERIFY2(check.precision() == 1.0, text.c_str()); // the generator never lies
                QCOMPARE(check.sizesCorrect, check.sizesMentioned);
                QCOMPARE(check.relationsCorrect, check.relationsMentioned);
            }
        }
        QVERIFY(distinct.size() > 1000); // real variety, not a handful of templates
    }

    void contextDocumentsPairATextWithItsSceneAndTheNext() {
        const auto d = contextDocuments(3, 500, 30);
        QCOMPARE(d.sameScene.size(), size_t(30));
        QCOMPARE(d.otherScene.size(), size_t(30));
        for (size_t i = 0; i < d.sameScene.size(); ++i) {
            const Scene scene = generateScene(3, 500 + i), next = generateScene(3, 501 + i);
            QCOMPARE(d.sameScene[i].size(), size_t(2));
            QCOMPARE(d.sameScene[i][1], d.otherScene[i][1]); // one text, two contexts
            QCOMPARE(checkCaption(d.sameScene[i][0], scene).recall(), 1.0);
            QCOMPARE(checkCaption(d.sameScene[i][1], scene).recall(), 1.0);
            QCOMPARE(checkCaption(d.otherScene[i][0], next).recall(), 1.0);
        }
        // Every probe of every model reads the same documents.
        QCOMPARE(contextDocuments(3, 500, 30).sameScene, d.sameScene);
        QVERIFY(contextDocuments(4, 500, 30).sameScene != d.sameScene);
    }

    void changedAttributeMakesAMinimalPair() {
        std::mt19937_64 rng(3);
        for (uint64_t i = 0; i < 300; ++i) {
            const Scene s = generateScene(6, i);
            const size_t k = i % s.objects.size();
            for (auto attribute : {Attribute::Shape, Attribute::Size, Attribute::Color}) {
                const Scene c = withChangedAttribute(s, k, attribute, rng);
                QCOMPARE(c.objects.size(), s.objects.size());
                for (size_t j = 0; j < s.objects.size(); ++j) {
                    const auto &a = s.objects[j], &b = c.objects[j];
                    const int differences =
                        (a.shape != b.shape) + (a.size != b.size) + (a.color != b.color);
                    QCOMPARE(differences, j == k ? 1 : 0);
                    QCOMPARE(a.cx, b.cx); // the same place: only the named attribute moves
                    if (j != k) continue;
                    QCOMPARE(a.shape != b.shape, attribute == Attribute::Shape);
                    QCOMPARE(a.size != b.size, attribute == Attribute::Size);
                    QCOMPARE(a.color != b.color, attribute == Attribute::Color);
                    // Drawn at its new size, so a twin's image shows the change.
                    if (attribute == Attribute::Size)
                        QCOMPARE(b.radius > a.radius, b.size == Size::Large);
                    else
                        QCOMPARE(b.radius, a.radius);
                }
                for (size_t x = 0; x < c.objects.size(); ++x) // still distinct (shape, colour)
                    for (size_t y = x + 1; y < c.objects.size(); ++y)
                        QVERIFY(c.objects[x].shape != c.objects[y].shape ||
                                c.objects[x].color != c.objects[y].color);
            }
        }
    }

    void swappedShapesKeepEveryAttributeButTheBinding() {
        std::mt19937_64 rng(5);
        int swapped = 0, multiObject = 0;
        for (uint64_t i = 0; i < 300; ++i) {
            const Scene s = generateScene(6, i);
            multiObject += s.objects.size() > 1;
            const auto c = withSwappedShapes(s, rng);
            if (!c) {
                // Only when no two objects differ in both shape and colour (or the swap
                // would repeat a third object's pair).
                if (s.objects.size() == 2)
                    QVERIFY(s.objects[0].shape == s.objects[1].shape ||
                            s.objects[0].color == s.objects[1].color);
                continue;
            }
            ++swapped;
            QCOMPARE(c->objects.size(), s.objects.size());
            std::vector<size_t> moved;
            for (size_t j = 0; j < s.objects.size(); ++j) {
                const auto &a = s.objects[j], &b = c->objects[j];
                QCOMPARE(a.color, b.color); // colours, sizes and places stay put
                QCOMPARE(a.size, b.size);
                QCOMPARE(a.cx, b.cx);
                if (a.shape != b.shape) moved.push_back(j);
            }
            QCOMPARE(moved.size(), size_t(2)); // exactly two shapes, exchanged
            QCOMPARE(c->objects[moved[0]].shape, s.objects[moved[1]].shape);
            QCOMPARE(c->objects[moved[1]].shape, s.objects[moved[0]].shape);
            for (size_t x = 0; x < c->objects.size(); ++x) // still distinct (shape, colour)
                for (size_t y = x + 1; y < c->objects.size(); ++y)
                    QVERIFY(c->objects[x].shape != c->objects[y].shape ||
                            c->objects[x].color != c->objects[y].color);
            const auto text = [](const Scene& scene) {
                std::mt19937_64 words(11);
                return describeScene(scene, "caption", words);
            };
            QVERIFY(text(*c) != text(s)); // the same wording now says something else
        }
        // Most multi-object scenes have a pair to swap; single objects never do.
        QVERIFY2(swapped > multiObject / 2,
                 qPrintable(QString("%1 of %2").arg(swapped).arg(multiObject)));
        Scene single = generateScene(6, 0);
        single.objects.resize(1);
        QVERIFY(!withSwappedShapes(single, rng));
    }

    void groundTruthFeaturesEncodeEachObject() {
        for (uint64_t i = 0; i < 50; ++i) {
            const auto scene = generateScene(1, i);
            const auto f = groundTruthFeatures({scene}, 64);
            QCOMPARE(f.sizes(), (at::IntArrayRef{1, 64}));
            // Four set entries (colour, shape, size, present) per object in its block, no other.
            QCOMPARE(f.ne(0).sum().item<int64_t>(), int64_t(4 * scene.objects.size()));
            for (size_t k = 0; k < scene.objects.size(); ++k) {
                const auto block = f[0].narrow(0, int64_t(k) * 16, 16);
                const auto& o = scene.objects[k];
                QVERIFY(block[int(o.color)].item<float>() > 0);
                QVERIFY(block[8 + int(o.shape)].item<float>() > 0);
                QVERIFY(block[12 + int(o.size)].item<float>() > 0);
                QVERIFY(block[14].item<float>() > 0);
            }
            // A swap of two shapes keeps the bag of attributes but not the features.
            std::mt19937_64 rng(i);
            if (const auto twin = withSwappedShapes(scene, rng))
                QVERIFY(!at::equal(f, groundTruthFeatures({*twin}, 64)));
        }
        QVERIFY_THROWS_EXCEPTION(c10::Error, groundTruthFeatures({generateScene(1, 0)}, 32));
    }

    void checkerCatchesWrongCaptions() {
        Scene s = generateScene(4, 0);
        s.objects = {{Shape::Circle, Color::Red, Size::Small, Place::Left, 0.25f, 0.5f, 0.11f},
                     {Shape::Square, Color::Blue, Size::Large, Place::Right, 0.75f, 0.5f, 0.19f}};
        s.relations = {{0, 1, Relation::LeftOf}, {1, 0, Relation::RightOf}};
        auto ok = checkCaption("a small red circle to the left of a big blue box.", s);
        QCOMPARE(ok.precision(), 1.0);
        QCOMPARE(ok.recall(), 1.0);
        QCOMPARE(ok.f1(), 1.0);
        QCOMPARE(ok.relationsCorrect, 1);
        auto wrongColour = checkCaption("a green circle and a blue square", s);
        QCOMPARE(wrongColour.mentioned, 2);
        QCOMPARE(wrongColour.correct, 1);
        QCOMPARE(wrongColour.recall(), 0.5);
        QCOMPARE(wrongColour.mispaired, 0); // the scene holds nothing green
        QCOMPARE(ok.mispaired, 0);
        // The right colours and shapes, each on the other object: both are mispaired.
        auto swapped = checkCaption("a blue dot and a red square", s);
        QCOMPARE(swapped.correct, 0);
        QCOMPARE(swapped.mispaired, 2);
        // A shape the scene does not hold is a wrong shape, not a wrong pairing.
        QCOMPARE(checkCaption("a red triangle and a blue circle", s).mispaired, 1);
        auto wrongRelation = checkCaption("a red circle to the right of a blue square", s);
        QCOMPARE(wrongRelation.relationsMentioned, 1);
        QCOMPARE(wrongRelation.relationsCorrect, 0);
        auto wrongSize = checkCaption("a large red circle", s);
        QCOMPARE(wrongSize.sizesCorrect, 0);
        QCOMPARE(checkCaption("nothing about shapes here", s).f1(), 0.0);
    }

    void corpusLinesCarryTheStylePrefix() {
        const auto lines = corpusLines(1, 1000, 10, 2);
        QCOMPARE(lines.size(), size_t(10 * 7 * 2));
        for (const auto& l : lines) {
            const auto colon = l.find(": ");
            QVERIFY(colon != std::string::npos);
            const std::string style = l.substr(0, colon);
            QVERIFY(std::find(worldStyles().begin(), worldStyles().end(), style) !=
                    worldStyles().end());
        }
        // Training and held-out text come from disjoint scene ranges.
        QVERIFY(corpusLines(1, 0, 10, 1) != corpusLines(1, 1000, 10, 1));
    }
};

QTEST_GUILESS_MAIN(TestWorld)
#include "test_world.moc"
