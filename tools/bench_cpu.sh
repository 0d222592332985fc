#!/usr/bin/env bash
# The CPU speed table in one run: `esper bench` (GPT-2 decoding, CLIP, one image in 7 styles) in
# fp32, fp16, int8 and bf16 weights, beside the PyTorch-eager peers (tools/bench_cpu_peer.py:
# fp32, and PyTorch's own dynamic int8), on an otherwise idle machine. Prints one JSON object
# with each figure, its peers and the ratios.
#   tools/bench_cpu.sh [BUILD_DIR] [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
repeats=${2:-3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for dtype in fp32 fp16 int8 bf16; do
  "$build"/app/cli/esper bench --only gpt2 --dtype "$dtype" --repeats "$repeats" >"$out/gpt2-$dtype.json"
  "$build"/app/cli/esper bench --only caption --dtype "$dtype" --repeats "$repeats" >"$out/caption-$dtype.json"
  "$build"/app/cli/esper bench --only clip --dtype "$dtype" --repeats "$repeats" >"$out/clip-$dtype.json"
done
/usr/bin/python3 tools/bench_cpu_peer.py 1 "$repeats" >"$out/peer.json"
/usr/bin/python3 - "$out" "$(git rev-parse --short HEAD)" <<'PY'
import json, os, sys, datetime
d, commit = sys.argv[1], sys.argv[2]
load = lambda name: json.load(open(os.path.join(d, name)))
peer = load("peer.json")
modes = ("fp32", "fp16", "int8", "bf16")
steps = {m: {r["batch"]: r for r in load("gpt2-%s.json" % m)["gpt2"]["runs"]} for m in modes}
peer_steps = {k: {r["batch"]: r for r in peer[k]} for k in ("gpt2_fp32", "gpt2_int8_dynamic")}
out = {"date": datetime.date.today().isoformat(), "commit": commit,
       "cpu": open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].split(":", 1)[1].strip(),
       "cores": os.cpu_count(), "gpt2_decode_step_ms": {}, "one_image_7_styles_ms": {}}
for batch in (1, 8):
    row = {m: steps[m][batch]["ms_per_decode_step"] for m in steps}
    row["peer_fp32"] = peer_steps["gpt2_fp32"][batch]["ms_per_decode_step"]
    row["peer_int8_dynamic"] = peer_steps["gpt2_int8_dynamic"][batch]["ms_per_decode_step"]
    row["int8_speedup_vs_fp32"] = row["fp32"] / row["int8"]
    row["int8_speedup_vs_peer_fp32"] = row["peer_fp32"] / row["int8"]
    out["gpt2_decode_step_ms"]["batch_%d" % batch] = row
for m in modes:
    e = load("caption-%s.json" % m)["end_to_end"]
    out["one_image_7_styles_ms"][m] = {k: e[k] for k in ("encode_ms", "decode_ms", "score_ms", "total_ms")}
out["clip_image_ms"] = {m: load("clip-%s.json" % m)["clip"]["runs"][0]["ms_per_image"] for m in modes}
out["clip_image_ms"]["peer_fp32"] = peer["clip_image_ms"]
# What CLIP's products ran in, as the engine chose for this CPU (bf16 in the compressed modes
# where it has AMX).
out["clip_products"] = {m: load("clip-%s.json" % m)["clip"]["products"] for m in modes}
print(json.dumps(out, indent=2))
PY
