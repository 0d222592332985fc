#!/usr/bin/env bash
# Data-parallel ESPER training on this machine, in one run: the same training (the demo bundle on
# the synthetic world) by one worker on one core, by two workers (esper
# launch, one core each, over loopback) and by one worker on two threads, each for ITERATIONS
# iterations after one warm-up. Prints one JSON object: episodes per second, seconds per
# iteration, and the exchanges' megabytes and seconds per iteration (waiting for the slower
# worker included).
#   tools/bench_distributed.sh [BUILD_DIR] [ITERATIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(realpath "${1:-build}")
iterations=${2:-4}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
esper="$build/app/cli/esper"
# Two configs: the official one (16 minibatches x 4 epochs: 64 exchanges of the gradients per
# iteration) and the demo bundle's own (4 x 2), which the studio's Training page uses.
for config in official demo; do
  train=(train esper --bundle models/demo --world --iterations $((iterations + 1)) --seed 3
         --set eval_every=0 --checkpoint-every 0)
  [ "$config" = demo ] && train+=(--config models/demo/esper-config.json)
  OMP_NUM_THREADS=1 "$esper" "${train[@]}" --out "$out/$config/one-core" >/dev/null 2>&1
  "$esper" launch --workers 2 -- "${train[@]}" --out "$out/$config/two-workers" >/dev/null 2>&1
  "$esper" "${train[@]}" --out "$out/$config/two-threads" >/dev/null 2>&1
done
/usr/bin/python3 - "$out" "$(git rev-parse --short HEAD)" <<'PY'
import datetime, json, os, sys
d, commit = sys.argv[1], sys.argv[2]
def figures(name):
    lines = [json.loads(l) for l in open(os.path.join(d, name, "esper-train.jsonl"))][1:]
    seconds = [b["seconds"] - a["seconds"] for a, b in zip(lines, lines[1:])]
    per = sum(seconds) / len(seconds)
    out = {"seconds_per_iteration": round(per, 3),
           "episodes_per_second": round(lines[0]["episodes"] / (lines[0]["step"] + 1) / per, 1)}
    if "workers" in lines[0]:
        out["exchange_megabytes_per_iteration"] = round(lines[-1]["exchange_megabytes"], 1)
        out["exchange_seconds_per_iteration"] = round(
            sum(l["seconds_exchange"] for l in lines[1:]) / len(lines[1:]), 3)
    return out
out = {"date": datetime.date.today().isoformat(), "commit": commit,
       "cpu": open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].split(":", 1)[1].strip(),
       "cores": os.cpu_count(), "bundle": "demo, on the synthetic world"}
for config in ("official", "demo"):
    runs = {k: figures(os.path.join(config, k)) for k in ("one-core", "two-workers", "two-threads")}
    base = runs["one-core"]["episodes_per_second"]
    for r in runs.values():
        r["speedup_over_one_core"] = round(r["episodes_per_second"] / base, 2)
    out[config + "_config"] = runs
print(json.dumps(out, indent=2))
PY
