#include "world/scene.h"
#include "util/json_text.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

namespace esper::world {

namespace {

constexpr std::array<std::array<uint8_t, 3>, 8> kRgb = {{{220, 40, 40},
                                                         {40, 170, 60},
                                                         {40, 80, 220},
                                                         {235, 210, 40},
                                                         {140, 60, 180},
                                                         {240, 140, 30},
                                                         {245, 245, 245},
                                                         {20, 20, 20}}};

// Where each place puts an object's centre (before jitter). Unjittered, no two objects on the
// sides touch, whatever their shapes and sizes: a shape is only learnable when its outline shows.
std::pair<float, float> placeCentre(Place p) {
    constexpr float kSide = 0.28f;
    switch (p) {
    case Place::Left:
        return {0.5f - kSide, 0.5f};
    case Place::Right:
        return {0.5f + kSide, 0.5f};
    case Place::Top:
        return {0.5f, 0.5f - kSide};
    case Place::Bottom:
        return {0.5f, 0.5f + kSide};
    case Place::Center:
        return {0.5f, 0.5f};
    }
    return {0.5f, 0.5f};
}

// Whether two objects share any point, on a grid finer than any rendering uses, searched where
// their bounding boxes (every shape stays within 1.1 radii of its centre) meet.
constexpr int kGrid = 128;
bool overlap(const SceneObject& a, const SceneObject& b) {
    const auto span = [](float c, float e) {
        return std::pair{std::max(0, int((c - e) * kGrid)),
                         std::min(kGrid, int((c + e) * kGrid) + 1)};
    };
    const auto [ax0, ax1] = span(a.cx, 1.1f * a.radius);
    const auto [bx0, bx1] = span(b.cx, 1.1f * b.radius);
    const auto [ay0, ay1] = span(a.cy, 1.1f * a.radius);
    const auto [by0, by1] = span(b.cy, 1.1f * b.radius);
    for (int y = std::max(ay0, by0); y < std::min(ay1, by1); ++y)
        for (int x = std::max(ax0, bx0); x < std::min(ax1, bx1); ++x) {
            const float fx = (x + 0.5f) / kGrid, fy = (y + 0.5f) / kGrid;
            if (covers(a, fx, fy) && covers(b, fx, fy)) return true;
        }
    return false;
}

float radiusOf(Size size) {
    return size == Size::Small ? 0.11f : 0.16f;
}

} // namespace

bool covers(const SceneObject& o, float x, float y) {
    const float dx = x - o.cx, dy = y - o.cy, r = o.radius;
    switch (o.shape) {
    case Shape::Circle:
        return dx * dx + dy * dy <= r * r;
    case Shape::Square:
        return std::abs(dx) <= r * 0.85f && std::abs(dy) <= r * 0.85f;
    case Shape::Diamond:
        return std::abs(dx) + std::abs(dy) <= r;
    case Shape::Triangle: // pointing up: apex at top, base at the bottom
        return dy <= r * 0.8f && dy >= -r && std::abs(dx) <= (dy + r) * 0.6f;
    }
    return false;
}

const std::vector<std::string>& shapeNames() {
    static const std::vector<std::string> v{"circle", "square", "triangle", "diamond"};
    return v;
}
const std::vector<std::string>& colorNames() {
    static const std::vector<std::string> v{"red",    "green",  "blue",  "yellow",
                                            "purple", "orange", "white", "black"};
    return v;
}
const std::vector<std::string>& sizeNames() {
    static const std::vector<std::string> v{"small", "large"};
    return v;
}
const std::vector<std::string>& placeNames() {
    static const std::vector<std::string> v{"left", "right", "top", "bottom", "center"};
    return v;
}
const std::vector<std::string>& relationNames() {
    static const std::vector<std::string> v{"left of", "right of", "above", "below"};
    return v;
}

Scene generateScene(uint64_t seed, uint64_t index) {
    std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + index * 0xBF58476D1CE4E5B9ull + 1);
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
    Scene s;
    s.id = index;
    // Muted backgrounds keep every object colour visible.
    for (auto& c : s.background)
        c = static_cast<uint8_t>(90 + pick(80));
    // One object in five scenes, two or three in the rest: lone objects are the scenes most alike.
    const int count = std::array<int, 5>{1, 2, 2, 3, 3}[static_cast<size_t>(pick(5))];
    // A lone object sits in the centre; groups take the sides, so none overlaps another.
    std::vector<Place> places{Place::Left, Place::Right, Place::Top, Place::Bottom};
    std::shuffle(places.begin(), places.end(), rng);
    std::uniform_real_distribution<float> jitter(-0.03f, 0.03f);
    for (int i = 0; i < count; ++i) {
        SceneObject o{};
        do {
            o.shape = static_cast<Shape>(pick(4));
            o.color = static_cast<Color>(pick(8));
        } while (std::any_of(s.objects.begin(), s.objects.end(), [&](const SceneObject& p) {
            return p.shape == o.shape && p.color == o.color;
        }));
        o.size = static_cast<Size>(pick(2));
        o.place = count == 1 ? Place::Center : places[static_cast<size_t>(i)];
        o.radius = radiusOf(o.size);
        const auto [x, y] = placeCentre(o.place);
        // Jitter that would make two objects touch is drawn again; unjittered places never do.
        for (int attempt = 0;; ++attempt) {
            const float jx = jitter(rng), jy = jitter(rng);
            o.cx = x + (attempt < 20 ? jx : 0);
            o.cy = y + (attempt < 20 ? jy : 0);
            if (attempt >= 20 || std::none_of(s.objects.begin(), s.objects.end(),
                                              [&](const SceneObject& p) { return overlap(p, o); }))
                break;
        }
        s.objects.push_back(o);
    }
    // Relations between every ordered pair whose positions differ clearly on one axis.
    for (int a = 0; a < count; ++a)
        for (int b = 0; b < count; ++b) {
            if (a == b) continue;
            const auto& A = s.objects[a];
            const auto& B = s.objects[b];
            if (A.cx < B.cx - 0.2f)
                s.relations.push_back({a, b, Relation::LeftOf});
            else if (A.cx > B.cx + 0.2f)
                s.relations.push_back({a, b, Relation::RightOf});
            if (A.cy < B.cy - 0.2f)
                s.relations.push_back({a, b, Relation::Above});
            else if (A.cy > B.cy + 0.2f)
                s.relations.push_back({a, b, Relation::Below});
        }
    return s;
}

std::vector<Scene> generateScenes(uint64_t seed, uint64_t first, uint64_t count) {
    std::vector<Scene> out;
    out.reserve(count);
    for (uint64_t i = 0; i < count; ++i)
        out.push_back(generateScene(seed, first + i));
    return out;
}

namespace {
// Whether an object other than objects[a] and objects[b] already has this (shape, colour): a
// changed scene must keep the pairs distinct, as generated scenes do.
bool pairTaken(const Scene& s, Shape shape, Color colour, size_t a, size_t b) {
    for (size_t i = 0; i < s.objects.size(); ++i)
        if (i != a && i != b && s.objects[i].shape == shape && s.objects[i].color == colour)
            return true;
    return false;
}
} // namespace

Scene withChangedAttribute(Scene s, size_t k, Attribute attribute, std::mt19937_64& rng) {
    auto& o = s.objects.at(k);
    if (attribute == Attribute::Size) {
        o.size = o.size == Size::Small ? Size::Large : Size::Small;
        o.radius = radiusOf(o.size);
        return s;
    }
    const bool shape = attribute == Attribute::Shape;
    const int was = shape ? static_cast<int>(o.shape) : static_cast<int>(o.color);
    // A lone change of shape always exists: three objects use at most two other (shape, colour)
    // pairs out of the three other shapes of this colour (and likewise for colours).
    for (;;) {
        const int v = static_cast<int>(rng() % (shape ? 4u : 8u));
        const Shape newShape = shape ? static_cast<Shape>(v) : o.shape;
        const Color newColour = shape ? o.color : static_cast<Color>(v);
        if (v == was || pairTaken(s, newShape, newColour, k, k)) continue;
        o.shape = newShape;
        o.color = newColour;
        return s;
    }
}

std::optional<Scene> withSwappedShapes(Scene s, std::mt19937_64& rng) {
    std::vector<std::pair<size_t, size_t>> swappable;
    for (size_t a = 0; a < s.objects.size(); ++a)
        for (size_t b = a + 1; b < s.objects.size(); ++b) {
            const auto &oa = s.objects[a], &ob = s.objects[b];
            if (oa.shape != ob.shape && oa.color != ob.color &&
                !pairTaken(s, ob.shape, oa.color, a, b) && !pairTaken(s, oa.shape, ob.color, a, b))
                swappable.emplace_back(a, b);
        }
    if (swappable.empty()) return std::nullopt;
    const auto [a, b] = swappable[rng() % swappable.size()];
    std::swap(s.objects[a].shape, s.objects[b].shape);
    return s;
}

std::optional<Scene> twinOf(const Scene& s, TwinKind kind, std::mt19937_64& rng) {
    if (kind == TwinKind::SwappedShapes) return withSwappedShapes(s, rng);
    // Size is what the demo's CLIP tells apart worst (82-86 % of minimal pairs against 96 % for
    // shape and 100 % for colour), so half the twins change a size.
    static constexpr Attribute kChanged[] = {Attribute::Size, Attribute::Size, Attribute::Shape,
                                             Attribute::Color};
    const size_t k = rng() % s.objects.size();
    Scene twin = withChangedAttribute(s, k, kChanged[rng() % 4], rng);
    for (size_t j = 0; j < twin.objects.size(); ++j)
        if (j != k && overlap(twin.objects[j], twin.objects[k])) return std::nullopt;
    return twin;
}

RgbImage renderScene(const Scene& scene, int width, int height) {
    RgbImage img{width, height, std::vector<uint8_t>(static_cast<size_t>(width) * height * 3)};
    std::mt19937 noise(static_cast<uint32_t>(scene.id * 2654435761u + 7));
    std::uniform_int_distribution<int> n(-6, 6);
    // Supersampled 2x2 per pixel so edges are anti-aliased, as in a photograph.
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x) {
            int acc[3] = {0, 0, 0};
            for (int sy = 0; sy < 2; ++sy)
                for (int sx = 0; sx < 2; ++sx) {
                    const float fx = (x + 0.25f + 0.5f * sx) / width;
                    const float fy = (y + 0.25f + 0.5f * sy) / height;
                    std::array<uint8_t, 3> c = scene.background;
                    // A soft vertical gradient varies the background.
                    for (auto& v : c)
                        v = static_cast<uint8_t>(
                            std::clamp(int(v) + int((fy - 0.5f) * 30), 0, 255));
                    for (const auto& o : scene.objects)
                        if (covers(o, fx, fy)) c = kRgb[static_cast<size_t>(o.color)];
                    for (int k = 0; k < 3; ++k)
                        acc[k] += c[static_cast<size_t>(k)];
                }
            uint8_t* px = img.row(y) + x * 3;
            for (int k = 0; k < 3; ++k)
                px[k] = static_cast<uint8_t>(std::clamp(acc[k] / 4 + n(noise), 0, 255));
        }
    return img;
}

std::string sceneJson(const Scene& s) {
    nlohmann::ordered_json j;
    j["id"] = s.id;
    j["background"] = s.background;
    j["objects"] = nlohmann::ordered_json::array();
    for (const auto& o : s.objects)
        j["objects"].push_back({{"shape", shapeNames()[static_cast<size_t>(o.shape)]},
                                {"color", colorNames()[static_cast<size_t>(o.color)]},
                                {"size", sizeNames()[static_cast<size_t>(o.size)]},
                                {"place", placeNames()[static_cast<size_t>(o.place)]}});
    j["relations"] = nlohmann::ordered_json::array();
    for (const auto& r : s.relations)
        j["relations"].push_back({{"a", r.a},
                                  {"relation", relationNames()[static_cast<size_t>(r.relation)]},
                                  {"b", r.b}});
    return dumpJson(j);
}

} // namespace esper::world
