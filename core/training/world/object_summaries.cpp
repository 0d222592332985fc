#include "training/world/object_summaries.h"

#include "models/causal_lm.h"
#include "text/sentencepiece_tokenizer.h"

#include <ATen/ATen.h>
#include <algorithm>

namespace esper {

at::Tensor objectSummaries(const CausalLm& lm, const SentencePieceTokenizer& tok,
                           const std::vector<world::Scene>& scenes, int64_t positions,
                           std::mt19937_64& rng) {
    std::vector<at::Tensor> rows;
    for (const auto& scene : scenes) {
        const size_t objects = scene.objects.size();
        TORCH_CHECK(objects > 0 && static_cast<int64_t>(objects) <= positions,
                    "object summaries need 1 to ", positions, " objects, the scene has ", objects);
        std::vector<size_t> slot(static_cast<size_t>(positions));
        for (size_t s = 0; s < slot.size(); ++s)
            slot[s] = s < objects ? s : static_cast<size_t>(rng() % objects);
        std::shuffle(slot.begin(), slot.end(), rng);
        std::vector<at::Tensor> summaries;
        for (size_t o : slot) {
            const auto& object = scene.objects[o];
            const auto pieces = tok.encode(" " + world::sizeNames()[int(object.size)] + " " +
                                           world::colorNames()[int(object.color)] + " " +
                                           world::shapeNames()[int(object.shape)]);
            const at::Tensor ids =
                at::tensor(std::vector<int64_t>(pieces.begin(), pieces.end()), at::kLong);
            summaries.push_back(lm.embed(ids.to(lm.options().device)).sum(0));
        }
        rows.push_back(at::stack(summaries));
    }
    return at::stack(rows);
}

} // namespace esper
