// What a CLIP folder has learned about the synthetic world, measured on held-out scenes: how
// well it finds a scene's caption among others, and which attributes its embeddings tell apart.
// A captioner can only state what these embeddings carry, so the probes explain its figures.
#pragma once

#include "util/result.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>

namespace esper::world {

// The standard probe sizes, so every report of a CLIP measures it the same way.
constexpr int kRetrievalCandidates = 100, kRetrievalGroups = 10, kProbeScenes = 500;

// For each held-out scene, its caption against the same caption with one object's shape, size
// or colour changed (same template and synonyms): the share of scenes whose image is closer to
// the true text. Chance is 0.5 for each. `binding` is the same test against the caption with
// two objects' shapes exchanged, on the `bindingScenes` that have such a pair: what a captioner
// needs to say which colour goes with which shape, and what contrastive training on random
// batches does not ask for.
struct ClipAttributeProbe {
    double shape = 0, size = 0, colour = 0, binding = 0;
    int scenes = 0, bindingScenes = 0;
};

// The pairs' figures as JSON fields named `prefix` + "shape_pairs" and so on, for every report
// that prints them.
void addAttributeFields(nlohmann::ordered_json& out, const ClipAttributeProbe& probe,
                        const std::string& prefix = "");

struct ClipProbes {
    // Image-to-text top-1 on held-out scenes: each scene's image against the "caption"-style
    // texts of kRetrievalCandidates scenes, averaged over kRetrievalGroups disjoint sets (one
    // set of 100 alone varies by several points from seed to seed).
    double retrievalTop1 = 0;
    ClipAttributeProbe attributes; // on kProbeScenes held-out scenes
};

// Both probes of a CLIP folder at the standard sizes, on held-out scenes from firstScene on,
// rendered at the CLIP's own resolution.
Result<ClipProbes> probeClip(const std::string& clipDir, uint64_t worldSeed, uint64_t firstScene,
                             int imageSize);

} // namespace esper::world
