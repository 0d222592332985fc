// Object summaries: a scene's objects as positions of a language model's input, each the sum of
// the word embeddings of one object's " size colour shape". Half the world LM's pretraining
// documents open with them (text only: the words of the scene's ground truth, no image). GPT-2
// follows a mapper's prefix because a web of text taught it to read content from its context;
// a model this small learns from texts alone to copy bags of words, not which colour goes with
// which shape (that sits in word order, two attention steps away), so no prefix could steer it
// to bind them. With each object also given at one position it learns the one-step lookup a
// prefix needs, and reads texts better for it (docs/world.md, "What we tried").
#pragma once

#include "world/scene.h"

#include <ATen/core/Tensor.h>
#include <random>
#include <vector>

namespace esper {

class CausalLm;
class SentencePieceTokenizer;

// [B, positions, E]: every object of scene i fills at least one of its positions (the scenes
// hold at most 3), the other positions repeat a random object, in a random order.
at::Tensor objectSummaries(const CausalLm& lm, const SentencePieceTokenizer& tok,
                           const std::vector<world::Scene>& scenes, int64_t positions,
                           std::mt19937_64& rng);

} // namespace esper
