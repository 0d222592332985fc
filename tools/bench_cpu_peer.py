"""PyTorch-eager peers for `esper bench` on the CPU, the same work at the same sizes with random
weights: GPT-2 124M decoding with a KV cache after a 10-embedding prefix and 3 prompt tokens
(batch 1 and 8), in fp32 and with PyTorch's own int8 weights (torch.ao dynamic quantisation of
every Linear), and the CLIP ViT-B/32 image tower (batch 1). Written for this benchmark from the
architectures in ../shared/docs/model-internals.md; prints JSON. Run with Debian's python3-torch:
  /usr/bin/python3 tools/bench_cpu_peer.py [threads] [repeats] [steps]"""
import json
import math
import statistics
import sys
import time

import torch
from torch import nn

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 20
torch.set_num_threads(threads)
torch.manual_seed(0)


def gelu_new(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


class Gpt2Block(nn.Module):
    def __init__(self, e=768, heads=12):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(e), nn.LayerNorm(e)
        self.qkv, self.proj = nn.Linear(e, 3 * e), nn.Linear(e, e)
        self.fc, self.out = nn.Linear(e, 4 * e), nn.Linear(4 * e, e)

    def forward(self, h, cache):
        b, t, e = h.shape
        q, k, v = self.qkv(self.ln1(h)).split(e, -1)
        split = lambda x: x.view(b, -1, self.heads, e // self.heads).transpose(1, 2)
        q, k, v = split(q), split(k), split(v)
        if cache:
            k, v = torch.cat([cache[0], k], 2), torch.cat([cache[1], v], 2)
        cache[:] = [k, v]
        s = q @ k.transpose(-1, -2) / math.sqrt(e // self.heads)
        past = k.shape[2] - t
        causal = torch.ones(t, k.shape[2], dtype=torch.bool).tril(past)
        a = s.masked_fill(~causal, float("-inf")).softmax(-1) @ v
        h = h + self.proj(a.transpose(1, 2).reshape(b, t, e))
        return h + self.out(gelu_new(self.fc(self.ln2(h))))


class Gpt2(nn.Module):
    def __init__(self, vocab=50257, positions=1024, e=768, layers=12):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, e), nn.Embedding(positions, e)
        self.blocks = nn.ModuleList(Gpt2Block(e) for _ in range(layers))
        self.lnf = nn.LayerNorm(e)
        self.head = nn.Linear(e, vocab, bias=False)
        self.head.weight = self.wte.weight

    def forward(self, embeds, caches, past):
        pos = torch.arange(past, past + embeds.shape[1])
        h = embeds + self.wpe(pos)
        for block, cache in zip(self.blocks, caches):
            h = block(h, cache)
        return self.head(self.lnf(h[:, -1:]))


def bench_gpt2(model, batch):
    prefill, step = [], []
    for r in range(repeats + 1):
        caches = [[] for _ in model.blocks]
        prefix = torch.randn(batch, 10, 768)
        prompt = torch.randint(50257, (batch, 3))
        t0 = time.perf_counter()
        nxt = model(torch.cat([prefix, model.wte(prompt)], 1), caches, 0).argmax(-1)
        t1 = time.perf_counter()
        for s in range(steps):
            nxt = model(model.wte(nxt), caches, 13 + s).argmax(-1)
        t2 = time.perf_counter()
        if r:
            prefill.append((t1 - t0) * 1000)
            step.append((t2 - t1) * 1000 / steps)
    p, s = statistics.median(prefill), statistics.median(step)
    return {"batch": batch, "prefill_ms": p, "ms_per_decode_step": s, "greedy20_ms": p + 19 * s}


class ClipLayer(nn.Module):
    def __init__(self, d=768, heads=12):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.fc1, self.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, h):
        b, t, d = h.shape
        x = self.ln1(h)
        split = lambda y: y.view(b, t, self.heads, d // self.heads).transpose(1, 2)
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        a = (q @ k.transpose(-1, -2) / math.sqrt(d // self.heads)).softmax(-1) @ v
        h = h + self.o(a.transpose(1, 2).reshape(b, t, d))
        y = self.fc1(self.ln2(h))
        return h + self.fc2(y * torch.sigmoid(1.702 * y))


class ClipVision(nn.Module):
    def __init__(self, d=768, layers=12):
        super().__init__()
        self.patch = nn.Conv2d(3, d, 32, 32, bias=False)
        self.cls, self.pos = nn.Parameter(torch.randn(d)), nn.Parameter(torch.randn(50, d))
        self.pre, self.post = nn.LayerNorm(d), nn.LayerNorm(d)
        self.layers = nn.ModuleList(ClipLayer(d) for _ in range(layers))
        self.proj = nn.Linear(d, 512, bias=False)

    def forward(self, pixels):
        x = self.patch(pixels).flatten(2).transpose(1, 2)
        h = torch.cat([self.cls.expand(x.shape[0], 1, -1), x], 1) + self.pos
        h = self.pre(h)
        for layer in self.layers:
            h = layer(h)
        return self.proj(self.post(h[:, 0]))


def median_ms(fn):
    times = []
    for r in range(repeats + 1):
        t0 = time.perf_counter()
        fn()
        if r:
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


with torch.inference_mode():
    gpt2 = Gpt2().eval()
    out = {"peer": "pytorch-eager", "torch": torch.__version__, "threads": threads,
           "gpt2_fp32": [bench_gpt2(gpt2, b) for b in (1, 8)]}
    quantized = torch.ao.quantization.quantize_dynamic(gpt2, {nn.Linear}, dtype=torch.qint8)
    out["gpt2_int8_dynamic"] = [bench_gpt2(quantized, b) for b in (1, 8)]
    clip = ClipVision().eval()
    pixels = torch.randn(1, 3, 224, 224)
    out["clip_image_ms"] = median_ms(lambda: clip(pixels))
print(json.dumps(out, indent=2))
