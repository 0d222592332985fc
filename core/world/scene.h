// ESPER's offline world: procedurally generated scenes of simple objects with known content, so
// that captions can be checked against ground truth and models trained without any real data.
#pragma once

#include "image/rgb_image.h"

#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace esper::world {

enum class Shape { Circle, Square, Triangle, Diamond };
enum class Color { Red, Green, Blue, Yellow, Purple, Orange, White, Black };
enum class Size { Small, Large };
enum class Place { Left, Right, Top, Bottom, Center };
enum class Relation { LeftOf, RightOf, Above, Below };

const std::vector<std::string>& shapeNames();
const std::vector<std::string>& colorNames();
const std::vector<std::string>& sizeNames();
const std::vector<std::string>& placeNames();
const std::vector<std::string>& relationNames(); // "left of", "right of", "above", "below"

struct SceneObject {
    Shape shape;
    Color color;
    Size size;
    Place place;
    float cx, cy, radius; // in [0, 1] image coordinates
};

struct SceneRelation {
    int a, b; // object indices: objects[a] <relation> objects[b]
    Relation relation;
};

struct Scene {
    uint64_t id = 0;
    std::array<uint8_t, 3> background{};
    std::vector<SceneObject> objects; // 1-3, distinct (shape, color) pairs
    std::vector<SceneRelation> relations;
};

// Whether the object's shape covers point (x, y) of the image, in [0, 1] coordinates.
bool covers(const SceneObject& object, float x, float y);
// Deterministic: scene `index` of the world with `seed` is always the same scene.
Scene generateScene(uint64_t seed, uint64_t index);
// Scenes first .. first+count-1 of the world with `seed` (a held-out range, for instance).
std::vector<Scene> generateScenes(uint64_t seed, uint64_t first, uint64_t count);
// The scene with one object's shape, size or colour changed to another value (drawn with
// `rng`) that keeps every (shape, colour) pair distinct, as generated scenes are: the minimal
// pair a model must tell apart to know that attribute. A changed size is drawn at that size.
enum class Attribute { Shape, Size, Color };
Scene withChangedAttribute(Scene scene, size_t object, Attribute attribute, std::mt19937_64& rng);
// The scene with the shapes of two objects exchanged: the same colours, shapes and sizes in a
// different binding, which a bag of attribute words cannot tell from the original. Empty when
// no pair of objects differs in both shape and colour without the swap repeating a (shape,
// colour) pair; otherwise the pair is drawn with `rng`.
std::optional<Scene> withSwappedShapes(Scene scene, std::mt19937_64& rng);
// A scene's twin for contrastive training, drawn with `rng`: its shapes swapped
// (SwappedShapes), or one object's size (half the twins), shape or colour changed
// (ChangedAttribute). Empty when the scene has none: no pair to swap, or a grown object that
// would touch another.
enum class TwinKind { SwappedShapes, ChangedAttribute };
std::optional<Scene> twinOf(const Scene& scene, TwinKind kind, std::mt19937_64& rng);
// Draws the scene at width x height with mild pixel noise (seeded by the scene).
RgbImage renderScene(const Scene& scene, int width = 64, int height = 64);
// The ground truth as JSON (objects with shape/color/size/place, relations).
std::string sceneJson(const Scene& scene);

} // namespace esper::world
