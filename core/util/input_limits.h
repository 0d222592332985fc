// The limits every input is held to, in one place. Each is far above what any real model or
// dataset needs, and low enough that a hostile or mistaken file cannot make the process
// allocate until the machine runs out or run for hours. The image pixel limit is a setting
// (media/image_header.h).
#pragma once

#include <cstddef>
#include <cstdint>

namespace esper {

// Files read whole (configs, manifests, vocabularies, images) are refused above this size,
// before a byte is read: a link to /dev/zero or a mistaken path must not fill the memory.
inline constexpr uint64_t kMaxWholeFileBytes = uint64_t{1} << 30;

// Any size or count in a config.json, a manifest or a flag (layers, widths, heads, vocabulary
// and context sizes): no model comes near 2^24, and more would only make LibTorch allocate.
inline constexpr int64_t kMaxModelDimension = int64_t{1} << 24;

// Token ids in a vocabulary file are below this (the largest real vocabularies are ~256k).
inline constexpr int64_t kMaxTokenId = kMaxModelDimension;

// Prefix embeddings a mapper may produce (ESPER uses 10; ClipCap up to 40).
inline constexpr int64_t kMaxPrefixLength = 1024;

// Parameters of a mapper: its MLP grows with (prefix length × LM width)², so a prefix of 1,000
// for GPT-2 would be 295 billion. 2^30 (4.3 GB in fp32) holds ESPER's shape (a prefix of 10)
// up to a 4096-wide language model (839 million).
inline constexpr int64_t kMaxMapperParameters = int64_t{1} << 30;

// Tokens of a caption or reference the text metrics see: ROUGE-L is quadratic in length, so a
// runaway caption is cut here, with a warning (a COCO caption has about 10).
inline constexpr size_t kMaxMetricTokens = 1024;

} // namespace esper
