// The language-model side of ESPER: anything that turns input embeddings into next-token
// logits with a KV cache. GPT-2 and LLaMA implement it; decoding code sees only this.
#pragma once

#include "io/model_config.h"
#include "models/device.h"

#include <ATen/core/Tensor.h>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace esper {

struct KvCache {
    std::vector<at::Tensor> keys, values; // per layer, [B, H_kv, S, D]
    // Set in a fixed-shape cache (fixedShape): keys and values are allocated for the whole
    // sequence up front and a step's one new entry goes to this column ([1] long, on the
    // model's device), so that no step changes a shape or asks the host where to write.
    at::Tensor slot;
    int64_t length() const { return keys.empty() || !keys[0].defined() ? 0 : keys[0].size(2); }
    // The entries before a step of `queries` new tokens, which attention masks and default
    // positions count from. A fixed-shape cache's attention always spans its whole length.
    int64_t pastFor(int64_t queries) const {
        return slot.defined() ? length() - queries : length();
    }
    void clear() {
        keys.clear();
        values.clear();
        rooms.clear();
        slot = at::Tensor();
    }
    // Appends a layer's new keys/values and returns the whole sequence's, for attention. A
    // fixed-shape cache takes one token per step, written at `slot`; its caller moves the slot.
    std::pair<at::Tensor, at::Tensor> append(size_t layer, size_t layers, at::Tensor k,
                                             at::Tensor v);
    // A fixed-shape copy of this cache with room for `capacity` entries, the next at length().
    KvCache fixedShape(int64_t capacity) const;

    // Makes this fixed-shape cache hold `from` (a growing cache with the same rows and heads)
    // in place, the next entry at from.length(), so that a recorded step keeps reading the same
    // tensors. The rest is zeroed: masked entries must still be finite.
    void refill(const KvCache& from);

    // A growing cache's keys and values are views of the first entries of larger tensors with
    // room for more, so that a step writes its one new entry instead of copying the whole
    // sequence. Entries already handed out are never written again: a step writes past
    // `filled` only, and only while the cache's keys and values are still the room's first
    // `filled` entries (the prefix decoder expands a shared prefix to every row, beam search
    // reorders rows: then a new room is made). A copy of a cache makes rooms of its own.
    struct Room {
        at::Tensor keys, values;
        int64_t filled = 0;
    };
    std::vector<Room> rooms; // per layer
    static constexpr int64_t kRoomAhead = 64;

    KvCache() = default;
    KvCache(const KvCache& other) : keys(other.keys), values(other.values), slot(other.slot) {}
    KvCache& operator=(const KvCache& other) {
        keys = other.keys;
        values = other.values;
        slot = other.slot;
        rooms.clear();
        return *this;
    }
    KvCache(KvCache&&) = default;
    KvCache& operator=(KvCache&&) = default;
};

struct LmInput {
    at::Tensor embeds;        // [B, T, E]
    at::Tensor positionIds;   // [B, T] long; undefined: past .. past+T-1 for every row
    at::Tensor attentionMask; // [B, past+T] 0/1 over cache and new tokens; undefined: all ones
    bool lastLogitsOnly = false;
};

// The input's position ids, or past .. past+T-1 for every row when it has none.
at::Tensor positionsOf(const LmInput& input, int64_t past, c10::Device device);

class CausalLm {
public:
    virtual ~CausalLm() = default;
    virtual at::Tensor embed(const at::Tensor& ids) const = 0;
    // The last layer's normalised hidden states [B, T, E] (or [B, 1, E] with lastLogitsOnly),
    // what the head reads (and what ESPER's value head reads instead); appends the new
    // keys/values to cache.
    virtual at::Tensor hidden(const LmInput& input, KvCache* cache) const = 0;
    // The head: hidden states [..., E] to logits [..., V].
    virtual at::Tensor logitsOf(const at::Tensor& hidden) const = 0;
    // Logits [B, T, V] (or [B, 1, V] with lastLogitsOnly); appends the new keys/values to cache.
    at::Tensor forward(const LmInput& input, KvCache* cache) const {
        return logitsOf(hidden(input, cache));
    }
    virtual int64_t hiddenSize() const = 0;
    virtual int64_t vocabSize() const = 0;
    virtual int64_t maxPositions() const = 0;
    virtual std::vector<int64_t> eosTokenIds() const = 0;
    virtual const ComputeOptions& options() const = 0;
};

// Loads config.json + model.safetensors of a GPT-2 or LLaMA folder.
Result<std::unique_ptr<CausalLm>> loadCausalLm(const std::string& dir, ComputeOptions options);
Result<std::unique_ptr<CausalLm>> makeCausalLm(const ModelConfig& config, class WeightSource& w);

} // namespace esper
