#!/usr/bin/env python3
"""Writes the small BPE tokenizers that pair with the tiny reference models in tests/data.

clip-tiny has a 600-token text vocabulary (bos 598, eos 599) and gpt2-tiny a 512-token one, so
each gets a byte-level BPE of exactly that size, in Hugging Face's file layout (vocab.json +
merges.txt), learned here from a small caption corpus. The files are committed; rerun this only
to change them. Usage: python3 make_tiny_tokenizers.py (writes clip-tiny/ and gpt2-tiny/ here).
"""
import collections
import json
import os
import re

CORPUS = """
a man riding a wave on top of a surfboard. a dog playing with a red ball in the park.
two cats sleeping on a sofa. a red bus driving down the street. a plate of food on a table.
caption: a small blue circle above a large red square. news: the city opened a new park today.
sns: what a beautiful day at the beach! blog: i just got back from the market with fresh fruit.
story: once upon a time there was a little boat. instruction: place the cup on the table.
dialogue: A: what is in the picture? B: a dog and a cat. the photo describes a sunny street.
image of a green tree next to a white house. a woman holding an umbrella in the rain.
three children flying colorful kites over the hill. an orange cat watching birds through a window.
the train arrives at the station while people wait on the platform. a chef cooking pasta.
yellow flowers bloom beside the river. a skateboarder jumps over stairs downtown at night.
giraffes and zebras graze together on the savanna. a laptop, keyboard and mouse on a desk.
breaking: heavy snow closes mountain roads. wow, this sunset looks amazing tonight #nofilter
my favourite recipe uses tomatoes, garlic and basil. first, fold the paper twice carefully.
"""


def bytes_to_unicode():
    bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def learn(words, n_merges, end_of_word):
    b2u = bytes_to_unicode()
    vocab = collections.Counter()
    for w in words:
        symbols = [b2u[b] for b in w.encode("utf-8")]
        if end_of_word:
            symbols[-1] += end_of_word
        vocab[tuple(symbols)] += 1
    merges = []
    while len(merges) < n_merges:
        pairs = collections.Counter()
        for word, freq in vocab.items():
            for a, b in zip(word, word[1:]):
                pairs[(a, b)] += freq
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))[0]
        merges.append(best)
        merged = collections.Counter()
        for word, freq in vocab.items():
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(word[i] + word[i + 1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            merged[tuple(out)] += freq
        vocab = merged
    return merges


def fill(base, merges, size, specials):
    """The base symbols, then merge results until the vocabulary has `size` entries; merges
    whose result already exists are kept (still valid rules) without adding a token."""
    tokens, seen, kept = list(base), set(base), []
    for m in merges:
        if len(tokens) + len(specials) == size:
            break
        kept.append(m)
        if "".join(m) not in seen:
            seen.add("".join(m))
            tokens.append("".join(m))
    assert len(tokens) + len(specials) == size, "corpus too small for the vocabulary"
    return tokens + specials, kept


def write(folder, tokens, merges):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump({t: i for i, t in enumerate(tokens)}, f, ensure_ascii=False, indent=0)
    with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for a, b in merges:
            f.write(f"{a} {b}\n")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    text = CORPUS.lower()
    symbols = list(bytes_to_unicode().values())
    # CLIP: lowercase words and punctuation runs, words end in </w>; 512 byte symbols + merges
    # + <|startoftext|> + <|endoftext|> = 600.
    clip_words = re.findall(r"[a-z]+|[0-9]|[^\sa-z0-9]+", text)
    clip_tokens, clip_merges = fill(symbols + [s + "</w>" for s in symbols],
                                    learn(clip_words, 400, "</w>"), 600,
                                    ["<|startoftext|>", "<|endoftext|>"])
    assert len(clip_tokens) == 600 and len(set(clip_tokens)) == 600
    write(os.path.join(here, "clip-tiny"), clip_tokens, clip_merges)
    # GPT-2: pieces keep their leading space; 256 byte symbols + merges + <|endoftext|> = 512.
    gpt_words = re.findall(r" ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+", CORPUS)
    gpt_tokens, gpt_merges = fill(symbols, learn(gpt_words, 600, ""), 512, ["<|endoftext|>"])
    assert len(gpt_tokens) == 512 and len(set(gpt_tokens)) == 512
    write(os.path.join(here, "gpt2-tiny"), gpt_tokens, gpt_merges)


if __name__ == "__main__":
    main()
