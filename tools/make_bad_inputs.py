#!/usr/bin/env python3
"""Writes the bad-input corpus in tests/data/bad/: files a hostile or careless user could hand
to `esper`, each with the role the CLI test gives it (cases.json). Every one must end in exit 1
or 2 with a message naming the file or flag: never a signal, a hang or more than 1 GB of memory.

The roles: a piece of a bundle (the test copies a small working bundle and puts the file in
place of one of its files), an image or a sound to caption, a dataset for `esper quality`, an
evaluation set for `esper metrics`. The mapper files fit the test's tiny bundle: CLIP 32-d,
GPT-2 64-d, prefix 4 (hidden 128, out 256).

Run from the repository root: python3 tools/make_bad_inputs.py
"""
import json
import os
import random
import struct
import zlib

OUT = os.path.join("tests", "data", "bad")
cases = []


def put(name, data, role, why):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    cases.append({"file": name, "role": role, "why": why})


def js(value):
    return json.dumps(value, indent=1)


# ---- bundle manifests (esper.json) ----------------------------------------------------------
GOOD = {
    "format": "esper-bundle", "version": 1, "name": "bad",
    "clip": {"path": "../clip", "tokenizer": "../clip-tok"},
    "lm": {"path": "../lm", "tokenizer": "../lm-tok"},
    "mapper": "mapper.safetensors", "prefix_length": 4, "styles": ["caption"],
}


def manifest(name, why, **changes):
    m = dict(GOOD)
    m.update(changes)
    put(name, js(m), "bundle/esper.json", why)


put("manifest-cut-short.json", js(GOOD)[:60], "bundle/esper.json", "JSON that ends mid-object")
put("manifest-empty.json", "", "bundle/esper.json", "an empty file")
put("manifest-array.json", "[1, 2, 3]", "bundle/esper.json", "JSON, but not an object")
put("manifest-binary.json", bytes(random.Random(1).randrange(256) for _ in range(512)),
    "bundle/esper.json", "random bytes, NULs included")
put("manifest-deep-nesting.json", "[" * 100000 + "]" * 100000, "bundle/esper.json",
    "100,000 nested arrays (a recursive parser or destructor overflows its stack)")
put("manifest-invalid-utf8.json", b'{"format": "esper-bundle", "name": "\xff\xfe\xc3"}',
    "bundle/esper.json", "a name that is not UTF-8")
manifest("manifest-prefix-zero.json", "prefix_length 0", prefix_length=0)
manifest("manifest-prefix-huge.json", "prefix_length 10^6", prefix_length=1000000)
manifest("manifest-prefix-fraction.json", "prefix_length 2.7", prefix_length=2.7)
manifest("manifest-prefix-string.json", "prefix_length \"ten\"", prefix_length="ten")
manifest("manifest-prefix-negative.json", "prefix_length -5", prefix_length=-5)
manifest("manifest-prefix-wraps.json", "prefix_length 2^32 + 4 (wraps to 4 modulo 2^32)",
         prefix_length=2**32 + 4)
manifest("manifest-long-path.json", "a 5,000-character model path",
         clip={"path": "a" * 5000, "tokenizer": "../clip-tok"})
manifest("manifest-wrong-format.json", "another program's JSON", format="something-else")
manifest("manifest-styles-not-array.json", "styles as a string", styles="caption")
manifest("manifest-bad-decoding.json", "max_new_tokens -1",
         decoding={"max_new_tokens": -1})
manifest("manifest-decoding-wraps.json", "max_new_tokens 2^32 + 5 (wrapped to 5)",
         decoding={"max_new_tokens": 2**32 + 5})
manifest("manifest-decoding-fraction.json", "top_k 2.5", decoding={"top_k": 2.5})
manifest("manifest-mapper-missing.json", "a mapper that is not there",
         mapper="no-such-mapper.safetensors")

# ---- model configs -------------------------------------------------------------------------
MODELS = os.path.join("tests", "data", "reference", "models")
GPT2 = json.load(open(os.path.join(MODELS, "gpt2-tiny", "config.json")))
CLIP = json.load(open(os.path.join(MODELS, "clip-tiny", "config.json")))


def gpt2(name, why, **changes):
    c = dict(GPT2)
    c.update(changes)
    put(name, js(c), "lm/config.json", why)


gpt2("gpt2-config-n-head-zero.json", "n_head 0 (was SIGFPE)", n_head=0)
gpt2("gpt2-config-n-embd-huge.json", "n_embd 10^11", n_embd=10**11)
gpt2("gpt2-config-layers-string.json", "n_layer \"two\"", n_layer="two")
gpt2("gpt2-config-infinite.json", "n_embd 1e400 (infinite)")
gpt2("gpt2-config-head-not-divisor.json", "n_embd 64 over 7 heads", n_head=7)
gpt2("gpt2-config-vocab-mismatch.json", "vocab_size 1000 against 512 rows of weights",
     vocab_size=1000)
# json.dumps cannot write 1e400; put it in by hand.
with open(os.path.join(OUT, "gpt2-config-infinite.json"), "w") as f:
    f.write(js(GPT2).replace('"n_embd": 64', '"n_embd": 1e400'))
assert "1e400" in open(os.path.join(OUT, "gpt2-config-infinite.json")).read()
put("gpt2-config-not-json.json", "n_embd = 64\nn_head = 4\n", "lm/config.json",
    "a config in another format")

def clip(name, why, part, key, value):
    c = json.loads(json.dumps(CLIP))
    c[part][key] = value
    put(name, js(c), "clip/config.json", why)


clip("clip-config-patch-zero.json", "vision patch_size 0 (was SIGFPE)", "vision_config",
     "patch_size", 0)
clip("clip-config-heads-zero.json", "text num_attention_heads 0 (was SIGFPE)", "text_config",
     "num_attention_heads", 0)
clip("clip-config-negative-layers.json", "vision num_hidden_layers -3", "vision_config",
     "num_hidden_layers", -3)

# ---- tokenizer files -----------------------------------------------------------------------
put("vocab-id-billion.json", js({"a": 0, "b": 1, "ab": 10**9}), "lm-tok/vocab.json",
    "a token id of 10^9 (was gigabytes of table)")
put("vocab-id-int-max.json", js({"a": 0, "b": 1, "ab": 2**31 - 1}), "lm-tok/vocab.json",
    "a token id of 2^31 - 1 (was a length_error abort)")
put("vocab-not-object.json", js(["a", "b"]), "lm-tok/vocab.json", "a list, not token -> id")
put("merges-empty.txt", "#version: 0.2\n", "lm-tok/merges.txt", "no merges at all")
put("clip-vocab-negative-id.json", js({"a</w>": -7}), "clip-tok/vocab.json", "a negative id")

# ---- safetensors mappers -------------------------------------------------------------------
SHAPES = {"model.0.weight": [128, 32], "model.0.bias": [128], "model.2.weight": [256, 128],
          "model.2.bias": [256]}


def safetensors(tensors, header_extra=None, data=None):
    header, offset, blobs = {}, 0, []
    for name, (dtype, shape, payload) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [offset, offset + len(payload)]}
        offset += len(payload)
        blobs.append(payload)
    if header_extra:
        header.update(header_extra)
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + (data if data is not None else b"".join(blobs))


def floats(n, value=0.01):
    return struct.pack("<%df" % n, *([value] * n))


def count(shape):
    n = 1
    for d in shape:
        n *= d
    return n


good_mapper = {k: ("F32", s, floats(count(s))) for k, s in SHAPES.items()}
put("mapper-header-huge.safetensors", struct.pack("<Q", 2**63) + b"{}", "bundle/mapper.safetensors",
    "a header length of 2^63")
whole = safetensors(good_mapper)
put("mapper-truncated.safetensors", whole[: len(whole) // 2], "bundle/mapper.safetensors",
    "cut in half")
put("mapper-header-not-json.safetensors", struct.pack("<Q", 12) + b"{not json!!}",
    "bundle/mapper.safetensors", "a header that is not JSON")
bad_dtype = dict(good_mapper)
bad_dtype["model.0.bias"] = ("Q4", [128], floats(128))
put("mapper-bad-dtype.safetensors", safetensors(bad_dtype), "bundle/mapper.safetensors",
    "a dtype that does not exist")
overlap = safetensors(good_mapper)
hl = struct.unpack("<Q", overlap[:8])[0]
header = json.loads(overlap[8:8 + hl])
header["model.0.bias"]["data_offsets"] = [0, 512]
header["model.0.weight"]["data_offsets"] = [256, 256 + 16384]
h = json.dumps(header).encode()
put("mapper-overlap.safetensors", struct.pack("<Q", len(h)) + h + overlap[8 + hl:],
    "bundle/mapper.safetensors", "two tensors over the same bytes")
nan = dict(good_mapper)
nan["model.0.weight"] = ("F32", [128, 32], floats(128 * 32, float("nan")))
put("mapper-nan.safetensors", safetensors(nan), "bundle/mapper.safetensors",
    "NaN weights (were '⁇' captions while bundle check said OK)")
inf = dict(good_mapper)
inf["model.2.bias"] = ("F32", [256], floats(256, float("inf")))
put("mapper-inf.safetensors", safetensors(inf), "bundle/mapper.safetensors", "infinite weights")
wrong = dict(good_mapper)
wrong["model.2.weight"] = ("F32", [128, 256], floats(128 * 256))
put("mapper-wrong-shape.safetensors", safetensors(wrong), "bundle/mapper.safetensors",
    "a mapper for another model")
put("mapper-password-file.safetensors",
    "root:$6$secretsalt$hash:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n",
    "bundle/mapper.safetensors", "a password file named as the mapper: its bytes must not be echoed")
shape_overflow = dict(good_mapper)
shape_overflow["model.0.bias"] = ("F32", [2**40, 2**40], floats(128))
put("mapper-shape-overflow.safetensors", safetensors(shape_overflow), "bundle/mapper.safetensors",
    "a shape whose element count overflows 64 bits")

# ---- images --------------------------------------------------------------------------------
def png(width, height, rows=None):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    raw = rows if rows is not None else b"".join(b"\0" + b"\0" * (3 * width) for _ in range(height))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + \
        chunk(b"IEND", b"")


# 26,000 x 26,000 declared over a few rows of data: the decompression bomb of the report.
put("bomb-26000x26000.png", png(26000, 26000, rows=b"\0" * (3 * 26000 + 1) * 4), "image",
    "a PNG declaring 26,000 x 26,000 pixels (was 6 GB)")
small = png(16, 16)
put("png-truncated.png", small[: len(small) // 2], "image", "a PNG cut in half")
put("png-text.png", "this is not an image\n", "image", "text named .png")
put("jpeg-empty.jpg", b"", "image", "an empty file")
sof = b"\xff\xd8" + b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 65000, 65000, 1) + b"\x01\x11\x00"
put("jpeg-huge.jpg", sof + b"\xff\xd9", "image", "a JPEG frame of 65,000 x 65,000")
bmp = b"BM" + struct.pack("<IHHI", 54, 0, 0, 54) + struct.pack(
    "<IiiHHIIiiII", 40, 100000, 100000, 1, 24, 0, 0, 0, 0, 0, 0)
put("bmp-huge.bmp", bmp, "image", "a BMP of 100,000 x 100,000")
vp8x = b"VP8X" + struct.pack("<I", 10) + b"\0\0\0\0" + (2**24 - 1).to_bytes(3, "little") * 2
put("webp-huge.webp", b"RIFF" + struct.pack("<I", 4 + len(vp8x)) + b"WEBP" + vp8x, "image",
    "a WebP of 16,777,216 x 16,777,216")
ifd = struct.pack("<H", 2) + struct.pack("<HHII", 256, 4, 1, 2**31) + \
    struct.pack("<HHII", 257, 4, 1, 2**31) + b"\0\0\0\0"
put("tiff-huge.tiff", b"II*\0" + struct.pack("<I", 8) + ifd, "image", "a TIFF of 2^31 x 2^31")
put("gif-unsupported.gif", b"GIF89a\x10\x00\x10\x00\x00\x00\x00;", "image", "a GIF")

# ---- sounds --------------------------------------------------------------------------------
def wav(channels=1, rate=16000, bits=16, data=b"\0\0" * 1600, data_size=None, cut=None):
    fmt = struct.pack("<HHIIHH", 1, channels, rate, (rate * channels * bits // 8) & 0xFFFFFFFF,
                      (channels * bits // 8) & 0xFFFF, bits)
    size = len(data) if data_size is None else data_size
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + \
        struct.pack("<I", size) + data
    out = b"RIFF" + struct.pack("<I", 4 + len(body)) + body
    return out if cut is None else out[:cut]


put("wav-size-lies.wav", wav(data_size=0xFFFFFFF0), "sound", "a data chunk that claims 4 GB")
put("wav-zero-channels.wav", wav(channels=0), "sound", "0 channels")
put("wav-zero-rate.wav", wav(rate=0), "sound", "a sample rate of 0")
put("wav-many-channels.wav", wav(channels=65535, data=b"\0" * 64), "sound", "65,535 channels")
put("wav-header-cut.wav", wav(cut=30), "sound", "a header cut short")
put("mp3-garbage.mp3", bytes(random.Random(2).randrange(256) for _ in range(4096)), "sound",
    "random bytes named .mp3")

# ---- datasets (esper quality) --------------------------------------------------------------
put("coco-images-not-array.json", js({"images": "none", "annotations": []}), "dataset",
    "COCO whose images are a string")
put("coco-annotation-without-image.json",
    js({"images": [{"id": 1, "file_name": "a.png"}], "annotations": [{"id": 1, "caption": "x"}]}),
    "dataset", "an annotation with no image_id")
put("karpathy-sentences-not-list.json",
    js({"images": [{"filename": "a.png", "sentences": 7}]}), "dataset",
    "Karpathy sentences as a number")
put("jsonl-bad-line.jsonl", '{"image": "a.png", "references": ["x"]}\n{"image": \n', "dataset",
    "a JSONL line cut short")
put("dataset-binary.json", bytes(random.Random(3).randrange(256) for _ in range(300)), "dataset",
    "random bytes")

# ---- evaluation sets (esper metrics) -------------------------------------------------------
put("evalset-refs-not-object.json", js({"refs": ["a"], "cands": {}}), "evalset",
    "refs as a list")
put("evalset-cands-missing.json", js({"refs": {"1": ["a cat"]}}), "evalset", "no cands")
put("evalset-caption-not-string.json", js({"refs": {"1": ["a cat"]}, "cands": {"1": 5}}),
    "evalset", "a candidate that is a number")

with open(os.path.join(OUT, "cases.json"), "w") as f:
    json.dump({"cases": cases}, f, indent=1, ensure_ascii=False)
    f.write("\n")
print(len(cases), "files in", OUT)
