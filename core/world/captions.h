// Text about a scene in ESPER's styles (caption, news, sns, blog, story, instruction,
// dialogue), with varied wording, and the checker that scores a caption against the scene.
#pragma once

#include "world/scene.h"

#include <random>
#include <string>
#include <vector>

namespace esper::world {

const std::vector<std::string>& worldStyles();
// One text of `style` about the scene; `rng` chooses templates and synonyms.
std::string describeScene(const Scene& scene, const std::string& style, std::mt19937_64& rng);
// "style: text" lines for the language-model corpus: `perScene` texts of each style per scene.
std::vector<std::string> corpusLines(uint64_t seed, uint64_t firstScene, uint64_t scenes,
                                     int perScene);

struct CaptionCheck {
    int mentioned = 0, correct = 0, present = 0, found = 0; // objects (colour + shape)
    int sizesMentioned = 0, sizesCorrect = 0;
    int relationsMentioned = 0, relationsCorrect = 0;
    // Wrong objects whose colour and shape are both in the scene, on different objects: the
    // right words paired wrongly, as against a shape or colour the scene does not hold.
    int mispaired = 0;
    double precision() const { return mentioned ? double(correct) / mentioned : 0.0; }
    double recall() const { return present ? double(found) / present : 0.0; }
    double f1() const {
        const double p = precision(), r = recall();
        return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
    }
};

// Reads the objects (colour + shape, with synonyms), sizes and relations a caption states and
// checks each against the scene's ground truth.
CaptionCheck checkCaption(const std::string& caption, const Scene& scene);

} // namespace esper::world
