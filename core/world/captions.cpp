#include "world/captions.h"

#include <algorithm>
#include <map>
#include <sstream>

namespace esper::world {

namespace {

const std::map<std::string, Shape>& shapeWords() {
    static const std::map<std::string, Shape> m{
        {"circle", Shape::Circle},     {"disc", Shape::Circle},      {"dot", Shape::Circle},
        {"square", Shape::Square},     {"box", Shape::Square},       {"block", Shape::Square},
        {"triangle", Shape::Triangle}, {"pyramid", Shape::Triangle}, {"diamond", Shape::Diamond},
        {"rhombus", Shape::Diamond}};
    return m;
}
const std::vector<std::vector<std::string>>& shapeSynonyms() {
    static const std::vector<std::vector<std::string>> v{{"circle", "disc", "dot"},
                                                         {"square", "box", "block"},
                                                         {"triangle", "pyramid"},
                                                         {"diamond", "rhombus"}};
    return v;
}
const std::map<std::string, Size>& sizeWords() {
    static const std::map<std::string, Size> m{{"small", Size::Small}, {"little", Size::Small},
                                               {"tiny", Size::Small},  {"large", Size::Large},
                                               {"big", Size::Large},   {"huge", Size::Large}};
    return m;
}
const std::vector<std::vector<std::string>>& sizeSynonyms() {
    static const std::vector<std::vector<std::string>> v{{"small", "little", "tiny"},
                                                         {"large", "big", "huge"}};
    return v;
}
const std::vector<std::vector<std::string>>& relationSynonyms() {
    static const std::vector<std::vector<std::string>> v{{"to the left of", "left of"},
                                                         {"to the right of", "right of"},
                                                         {"above", "over"},
                                                         {"below", "under", "beneath"}};
    return v;
}

template <class T> const T& choose(const std::vector<T>& v, std::mt19937_64& rng) {
    return v[static_cast<size_t>(rng() % v.size())];
}

// Sizes are always named in the plain caption style, so that a caption tells its scene apart
// from the others; the other styles name them half the time, for variety.
std::string objectPhrase(const SceneObject& o, std::mt19937_64& rng, bool size) {
    std::string s = "a ";
    if (size) s += choose(sizeSynonyms()[static_cast<size_t>(o.size)], rng) + " ";
    s += colorNames()[static_cast<size_t>(o.color)] + " ";
    s += choose(shapeSynonyms()[static_cast<size_t>(o.shape)], rng);
    return s;
}

std::string listed(const std::vector<std::string>& parts) {
    std::string out;
    for (size_t i = 0; i < parts.size(); ++i)
        out += (i == 0 ? "" : i + 1 == parts.size() ? " and " : ", ") + parts[i];
    return out;
}

// The scene's content as one clause naming every object, often through one of its relations.
std::string content(const Scene& s, std::mt19937_64& rng, bool alwaysSizes) {
    auto phrase = [&](const SceneObject& o) {
        return objectPhrase(o, rng, alwaysSizes || rng() % 2);
    };
    if (!s.relations.empty() && rng() % 3) {
        const auto& r = choose(s.relations, rng);
        std::string out = phrase(s.objects[static_cast<size_t>(r.a)]) + " " +
                          choose(relationSynonyms()[static_cast<size_t>(r.relation)], rng) + " " +
                          phrase(s.objects[static_cast<size_t>(r.b)]);
        for (size_t i = 0; i < s.objects.size(); ++i)
            if (int(i) != r.a && int(i) != r.b) out += " and " + phrase(s.objects[i]);
        return out;
    }
    std::vector<std::string> parts;
    for (const auto& o : s.objects)
        parts.push_back(phrase(o));
    std::shuffle(parts.begin(), parts.end(), rng);
    return listed(parts);
}

std::vector<std::string> words(const std::string& text) {
    std::vector<std::string> out;
    std::string w;
    for (char c : text) {
        if (std::isalpha(static_cast<unsigned char>(c)))
            w += static_cast<char>(std::tolower(c));
        else if (!w.empty()) {
            out.push_back(w);
            w.clear();
        }
    }
    if (!w.empty()) out.push_back(w);
    return out;
}

} // namespace

const std::vector<std::string>& worldStyles() {
    static const std::vector<std::string> v{"caption", "news",        "sns",     "blog",
                                            "story",   "instruction", "dialogue"};
    return v;
}

std::string describeScene(const Scene& s, const std::string& style, std::mt19937_64& rng) {
    const std::string c = content(s, rng, style == "caption");
    const size_t n = s.objects.size();
    const std::string count = n == 1 ? "one shape" : n == 2 ? "two shapes" : "three shapes";
    if (style == "caption")
        return choose(std::vector<std::string>{c, "a picture of " + c, "there is " + c,
                                               count + ": " + c},
                      rng) +
               ".";
    if (style == "news")
        return choose(std::vector<std::string>{"Breaking: " + c + " was spotted today.",
                                               "Local report: " + c + " appeared on the canvas.",
                                               "Officials confirm " + c + " in the picture."},
                      rng);
    if (style == "sns")
        return choose(std::vector<std::string>{"look at this, " + c + "! #shapes",
                                               "just saw " + c + " lol",
                                               "so cute: " + c + " #art #colors"},
                      rng);
    if (style == "blog")
        return choose(
            std::vector<std::string>{"Today I painted " + c + " and I love how it turned out.",
                                     "In this post I show " + c + " from my sketchbook.",
                                     "My latest drawing has " + count + ": " + c + "."},
            rng);
    if (style == "story")
        return choose(std::vector<std::string>{"Once upon a time there was " + c + ".",
                                               "Long ago, " + c + " lived on a quiet canvas.",
                                               "One morning " + c + " woke up in the picture."},
                      rng);
    if (style == "instruction")
        return choose(std::vector<std::string>{"Draw " + c + ".", "First, paint " + c + ".",
                                               "To copy this picture, draw " + c + "."},
                      rng);
    if (style == "dialogue")
        return choose(std::vector<std::string>{"A: what is in the picture? B: " + c + ".",
                                               "A: what do you see? B: I see " + c + "."},
                      rng);
    return c + ".";
}

std::vector<std::string> corpusLines(uint64_t seed, uint64_t firstScene, uint64_t scenes,
                                     int perScene) {
    std::vector<std::string> lines;
    std::mt19937_64 rng(seed ^ 0x5851F42D4C957F2Dull);
    for (uint64_t i = firstScene; i < firstScene + scenes; ++i) {
        const Scene s = generateScene(seed, i);
        for (const auto& style : worldStyles())
            for (int k = 0; k < perScene; ++k)
                lines.push_back(style + ": " + describeScene(s, style, rng));
    }
    return lines;
}

CaptionCheck checkCaption(const std::string& caption, const Scene& scene) {
    CaptionCheck c;
    const auto w = words(caption);
    struct Mention {
        size_t at;
        int color = -1, size = -1;
        Shape shape;
    };
    std::vector<Mention> mentions;
    for (size_t i = 0; i < w.size(); ++i) {
        auto it = shapeWords().find(w[i]);
        if (it == shapeWords().end()) continue;
        Mention m{i, -1, -1, it->second};
        for (size_t k = i; k-- > 0 && k + 3 >= i;) { // adjectives in the three words before
            const auto& colors = colorNames();
            auto col = std::find(colors.begin(), colors.end(), w[k]);
            if (col != colors.end() && m.color < 0) m.color = int(col - colors.begin());
            auto sz = sizeWords().find(w[k]);
            if (sz != sizeWords().end() && m.size < 0) m.size = int(sz->second);
        }
        mentions.push_back(m);
    }
    auto match = [&](const Mention& m) -> int {
        for (size_t o = 0; o < scene.objects.size(); ++o)
            if (scene.objects[o].shape == m.shape && int(scene.objects[o].color) == m.color)
                return int(o);
        return -1;
    };
    std::vector<bool> found(scene.objects.size(), false);
    for (const auto& m : mentions) {
        ++c.mentioned;
        const int o = match(m);
        if (o < 0) {
            auto has = [&](auto same) {
                return std::any_of(scene.objects.begin(), scene.objects.end(), same);
            };
            c.mispaired += has([&](const SceneObject& x) { return x.shape == m.shape; }) &&
                           has([&](const SceneObject& x) { return int(x.color) == m.color; });
            continue;
        }
        ++c.correct;
        found[static_cast<size_t>(o)] = true;
        if (m.size >= 0) {
            ++c.sizesMentioned;
            c.sizesCorrect += int(scene.objects[static_cast<size_t>(o)].size) == m.size;
        }
    }
    c.present = int(scene.objects.size());
    c.found = int(std::count(found.begin(), found.end(), true));
    // Relations: "<object> <relation words> <object>" between consecutive mentions.
    auto relationIn = [](const std::string& between) {
        for (size_t r = 0; r < relationSynonyms().size(); ++r)
            for (const auto& phrase : relationSynonyms()[r])
                if (between.find(phrase + " ") != std::string::npos) return int(r);
        return -1;
    };
    for (size_t k = 0; k + 1 < mentions.size(); ++k) {
        std::string between;
        for (size_t i = mentions[k].at + 1; i < mentions[k + 1].at; ++i)
            between += w[i] + " ";
        const int r = relationIn(between);
        if (r < 0) continue;
        ++c.relationsMentioned;
        const int a = match(mentions[k]), b = match(mentions[k + 1]);
        c.relationsCorrect += std::any_of(
            scene.relations.begin(), scene.relations.end(), [&](const SceneRelation& rel) {
                return rel.a == a && rel.b == b && int(rel.relation) == r;
            });
    }
    return c;
}

} // namespace esper::world
