#!/usr/bin/env python3
"""Small torch.save-shaped files for fuzzing the checkpoint reader, made without torch: the
pickles torch writes (persistent storage ids, _rebuild_tensor_v2, OrderedDict) in the ZIP and the
legacy layouts, and a bare pickle with an object to skip.
    python3 tools/make_checkpoint_seeds.py OUT_DIR
    python3 tools/make_checkpoint_seeds.py --clipcap FILE.pt   (GPT-2 base shapes, ~600 MB)
and the import fixtures in tests/data/checkpoints (regenerate: --fixtures tests/data/checkpoints):
a ClipCap checkpoint around tests/data/reference/models/gpt2-tiny's own weights, and a Wav2CLIP
Lightning checkpoint of the released layout at a small width.
"""
import argparse
import collections
import io
import json
import math
import os
import pickle
import random
import struct
import sys
import zipfile


class Call:
    def __init__(self, fn, *args):
        self.fn, self.args = fn, args


class Storage:
    def __init__(self, dtype, key, numel):
        self.dtype, self.key, self.numel = dtype, key, numel


class Writer(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", global_ref("torch", obj.dtype), obj.key, "cpu", obj.numel)
        return None

    def reducer_override(self, obj):
        if isinstance(obj, Call):
            return obj.fn, obj.args
        return NotImplemented


_made = {}


def global_ref(module, name):
    if (module, name) in _made:
        return _made[(module, name)]
    # A class with that qualified name in a module made here (torch is not installed), so
    # pickle writes GLOBAL 'module name'.
    cls = type(name, (), {})
    cls.__module__, cls.__qualname__ = module, name
    parts = module.split(".")
    for i in range(1, len(parts) + 1):  # parents first: importing a.b imports a
        sys.modules.setdefault(".".join(parts[:i]), type(sys)(".".join(parts[:i])))
    setattr(sys.modules[module], name, cls)
    _made[(module, name)] = cls
    return cls


def tensor(dtype, key, numel, offset, size, stride):
    rebuild = global_ref("torch._utils", "_rebuild_tensor_v2")
    return Call(rebuild, Storage(dtype, key, numel), offset, size, stride, False,
                collections.OrderedDict())


def dumps(obj):
    buffer = io.BytesIO()
    Writer(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


def state():
    d = collections.OrderedDict()
    d["w"] = tensor("FloatStorage", "0", 6, 0, (2, 3), (3, 1))
    d["t"] = tensor("FloatStorage", "0", 6, 0, (3, 2), (1, 3))  # transposed view
    d["h"] = tensor("HalfStorage", "1", 4, 1, (3,), (1,))
    d["n"] = tensor("LongStorage", "2", 1, 0, (), ())
    return {"state_dict": d, "epoch": 3, "hparams": argparse.Namespace(lr=0.1)}


def main(out):
    os.makedirs(out, exist_ok=True)
    data = {"0": struct.pack("<6f", *range(6)), "1": b"\x00\x3c" * 4, "2": struct.pack("<q", 7)}
    with zipfile.ZipFile(os.path.join(out, "seed_zip.pt"), "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", dumps(state()))
        for key, raw in data.items():
            z.writestr("archive/data/" + key, raw)
        z.writestr("archive/version", "3\n")
    legacy = io.BytesIO()
    for header in (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True}):
        legacy.write(pickle.dumps(header, protocol=2))
    legacy.write(dumps(state()))
    legacy.write(pickle.dumps(sorted(data), protocol=2))
    sizes = {"0": 4, "1": 2, "2": 8}
    for key in sorted(data):
        legacy.write(struct.pack("<q", len(data[key]) // sizes[key]) + data[key])
    with open(os.path.join(out, "seed_legacy.pt"), "wb") as f:
        f.write(legacy.getvalue())
    with open(os.path.join(out, "seed_plain.pkl"), "wb") as f:
        f.write(dumps({"a": [1, 2.5, "x", None, True], "b": argparse.Namespace(x=1)}))


def clipcap(path, width=768, layers=12, vocab=50257, positions=1024, prefix=10, clip=512):
    """A ClipCap-layout checkpoint of GPT-2's real shapes (base: about 600 MB), for measuring
    the importer; the weights are zeros, the layout is real."""
    rebuild_key = [0]
    storages = {}

    def weight(*shape):
        key = str(rebuild_key[0])
        rebuild_key[0] += 1
        numel = 1
        for d in shape:
            numel *= d
        storages[key] = numel * 4
        stride = tuple(int(x) for x in [1] * len(shape))
        acc = 1
        stride = []
        for d in reversed(shape):
            stride.insert(0, acc)
            acc *= d
        return tensor("FloatStorage", key, numel, 0, tuple(shape), tuple(stride))

    d = collections.OrderedDict()
    d["gpt.transformer.wte.weight"] = weight(vocab, width)
    d["gpt.transformer.wpe.weight"] = weight(positions, width)
    for i in range(layers):
        p = "gpt.transformer.h.%d." % i
        for name, shape in [("ln_1.weight", (width,)), ("ln_1.bias", (width,)),
                            ("attn.c_attn.weight", (width, 3 * width)), ("attn.c_attn.bias", (3 * width,)),
                            ("attn.c_proj.weight", (width, width)), ("attn.c_proj.bias", (width,)),
                            ("ln_2.weight", (width,)), ("ln_2.bias", (width,)),
                            ("mlp.c_fc.weight", (width, 4 * width)), ("mlp.c_fc.bias", (4 * width,)),
                            ("mlp.c_proj.weight", (4 * width, width)), ("mlp.c_proj.bias", (width,))]:
            d[p + name] = weight(*shape)
    d["gpt.transformer.ln_f.weight"] = weight(width)
    d["gpt.transformer.ln_f.bias"] = weight(width)
    d["gpt.lm_head.weight"] = d["gpt.transformer.wte.weight"]  # tied, one storage
    hidden = prefix * width // 2
    d["clip_project.model.0.weight"] = weight(hidden, clip)
    d["clip_project.model.0.bias"] = weight(hidden)
    d["clip_project.model.2.weight"] = weight(prefix * width, hidden)
    d["clip_project.model.2.bias"] = weight(prefix * width)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as z:
        z.writestr("archive/data.pkl", dumps(d))
        for key, size in storages.items():
            with z.open("archive/data/" + key, "w", force_zip64=True) as f:
                chunk = bytes(1 << 20)
                left = size
                while left:
                    n = min(left, len(chunk))
                    f.write(chunk[:n])
                    left -= n


class ZipCheckpoint:
    """A torch.save ZIP built tensor by tensor: each tensor its own float32 (or int64) storage."""

    def __init__(self):
        self.storages = {}

    def add(self, values, shape, storage="FloatStorage"):
        key = str(len(self.storages))
        fmt = "<%d%s" % (len(values), "q" if storage == "LongStorage" else "f")
        self.storages[key] = struct.pack(fmt, *values)
        stride, acc = [], 1
        for d in reversed(shape):
            stride.insert(0, acc)
            acc *= d
        return tensor(storage, key, len(values), 0, tuple(shape), tuple(stride))

    def add_raw(self, raw, shape):
        key = str(len(self.storages))
        self.storages[key] = raw
        stride, acc = [], 1
        for d in reversed(shape):
            stride.insert(0, acc)
            acc *= d
        return tensor("FloatStorage", key, len(raw) // 4, 0, tuple(shape), tuple(stride))

    def save(self, obj, path):
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
            z.writestr("archive/data.pkl", dumps(obj))
            for key, raw in self.storages.items():
                z.writestr("archive/data/" + key, raw)
            z.writestr("archive/version", "3\n")


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = collections.OrderedDict()
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", name
        begin, end = info["data_offsets"]
        out[name] = (data[begin:end], info["shape"])
    return out


def clipcap_from(gpt2_dir, path, clip=32, prefix=4):
    """ClipCap's layout around a GPT-2 folder's own weights (lm_head shares wte's storage, as
    ClipCap saves it) and a mapper of seeded values: importing it must give back that folder."""
    z = ZipCheckpoint()
    d = collections.OrderedDict()
    weights = read_safetensors(os.path.join(gpt2_dir, "model.safetensors"))
    for name, (raw, shape) in weights.items():
        d["gpt." + name] = z.add_raw(raw, shape)
    d["gpt.lm_head.weight"] = d["gpt.transformer.wte.weight"]
    width = weights["transformer.wte.weight"][1][1]
    hidden = prefix * width // 2
    rng = random.Random(11)

    def uniform(shape, fan_in):
        bound = 1 / math.sqrt(fan_in)
        return z.add([rng.uniform(-bound, bound) for _ in range(math.prod(shape))], shape)

    d["clip_project.model.0.weight"] = uniform((hidden, clip), clip)
    d["clip_project.model.0.bias"] = uniform((hidden,), clip)
    d["clip_project.model.2.weight"] = uniform((prefix * width, hidden), hidden)
    d["clip_project.model.2.bias"] = uniform((prefix * width,), hidden)
    z.save(d, path)


def wav2clip(path, widths=(4, 8, 8, 16), blocks=(2, 1, 1, 1), mlp=16):
    """Wav2CLIP's released layout (a Lightning checkpoint of its distillation module) at a small
    width: the encoder and audio MLP to import, and the image-side MLP, the loss's scale, the
    optimizer's state and the hyper-parameters to leave behind."""
    z = ZipCheckpoint()
    rng = random.Random(5)
    sd = collections.OrderedDict()

    def normal(shape, std):
        return z.add([rng.gauss(0, std) for _ in range(math.prod(shape))], shape)

    def bn(prefix, n):
        sd[prefix + "weight"] = z.add([1 + rng.gauss(0, 0.1) for _ in range(n)], (n,))
        sd[prefix + "bias"] = normal((n,), 0.1)
        sd[prefix + "running_mean"] = normal((n,), 0.1)
        sd[prefix + "running_var"] = z.add([0.5 + rng.random() for _ in range(n)], (n,))
        sd[prefix + "num_batches_tracked"] = z.add([1000], (), "LongStorage")

    e = "audio_encoder."
    sd[e + "spectrogram.window"] = z.add(
        [0.5 - 0.5 * math.cos(2 * math.pi * i / 512) for i in range(512)], (512,))
    sd[e + "conv1.weight"] = normal((widths[0], 1, 7, 7), 0.2)
    bn(e + "bn1.", widths[0])
    inp = widths[0]
    for s, (w, count) in enumerate(zip(widths, blocks)):
        for b in range(count):
            p = "%slayer%d.%d." % (e, s + 1, b)
            sd[p + "conv1.weight"] = normal((w, inp, 3, 3), 0.2)
            bn(p + "bn1.", w)
            sd[p + "conv2.weight"] = normal((w, w, 3, 3), 0.2)
            bn(p + "bn2.", w)
            if (s > 0 and b == 0) or inp != w:
                sd[p + "downsample.0.weight"] = normal((w, inp, 1, 1), 0.2)
                bn(p + "downsample.1.", w)
            inp = w
    for side in ("audio_transform", "image_transform"):
        for index, (fan_in, fan_out) in zip((0, 3), ((widths[-1], mlp), (mlp, mlp))):
            sd["%s.sequential.%d.weight" % (side, index)] = normal((fan_out, fan_in), 0.3)
            sd["%s.sequential.%d.bias" % (side, index)] = normal((fan_out,), 0.1)
    sd["loss_fn_a.logit_scale"] = z.add([2.659], ())
    checkpoint = {
        "epoch": 41,
        "global_step": 123000,
        "pytorch-lightning_version": "1.2.4",
        "state_dict": sd,
        "optimizer_states": [{"state": {}, "param_groups": [{"lr": 0.001, "params": [0, 1]}]}],
        "hyper_parameters": {"args": argparse.Namespace(loss="clip_loss_x", optimizer="Adam")},
    }
    z.save(checkpoint, path)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--clipcap":
        clipcap(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "--fixtures":
        os.makedirs(sys.argv[2], exist_ok=True)
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        clipcap_from(os.path.join(root, "tests/data/reference/models/gpt2-tiny"),
                     os.path.join(sys.argv[2], "clipcap_gpt2_tiny.pt"))
        wav2clip(os.path.join(sys.argv[2], "wav2clip_lightning.ckpt"))
    else:
        main(sys.argv[1])
