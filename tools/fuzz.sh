#!/usr/bin/env bash
# Fuzzes every parser target (tests/fuzz/fuzz_targets.cpp) with libFuzzer under AddressSanitizer
# and UndefinedBehaviorSanitizer, then merges what it found into the kept corpora
# (tests/fuzz/corpus/TARGET/) that CI replays (test_fuzz_replay). Not part of CI: it runs for
# as long as it is asked to.
#   tools/fuzz.sh [RUNS] [TARGET...]     RUNS: executions per target (default 10,000,000)
# Writes build-fuzz/fuzz-results.tsv: target, executions, seconds, corpus size, crashes.
# FUZZ_TAG=NAME runs another instance beside this one (each core its own): its own log, work
# corpus and results file (build-fuzz/fuzz-resultsNAME.tsv); the merges into the kept corpora
# take turns.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10000000}
shift || true

command -v clang++ >/dev/null || { echo "fuzz: needs clang (apt-get install clang)" >&2; exit 2; }
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DESPER_FUZZ=ON >/dev/null
fi
cmake --build build-fuzz --target esper_fuzz
fuzzer=build-fuzz/tests/fuzz/esper_fuzz

# Seeds: the project's own fixtures of each kind, and the bad-input corpus.
seed() {
  local target=$1; shift
  local dir=build-fuzz/seeds/$target
  mkdir -p "$dir"
  for f in "$@"; do
    if [ -f "$f" ]; then cp "$f" "$dir/"; fi
  done
  echo "$dir"
}
data=tests/data
bad=tests/data/bad
seeds_for() {
  case $1 in
    safetensors) seed "$1" $bad/*.safetensors ;;
    model_config) seed "$1" $data/reference/models/*/config.json $bad/*config*.json ;;
    bpe_vocab) seed "$1" $data/tokenizers/*/vocab.json $bad/vocab-*.json ;;
    bpe_merges) seed "$1" $data/tokenizers/*/merges.txt ;;
    gpt2_tokens|clip_tokens|ptb|caption_quality)
      seed "$1" $data/quality/*.jsonl $data/eval/candidates.jsonl ;;
    datasets) seed "$1" $data/eval/*.json $data/eval/*.jsonl $bad/coco-*.json $bad/karpathy-*.json ;;
    bundle_manifest) seed "$1" models/demo/esper.json $bad/manifest-*.json ;;
    model_registry) seed "$1" models/registry.json ;;
    wav) seed "$1" $bad/*.wav ;;
    image_header) seed "$1" $bad/*.png $bad/*.jpg $bad/*.bmp $bad/*.webp $bad/*.tiff \
                            $data/reference/images/synthetic_97x61.png ;;
    eval_set) seed "$1" $data/reference/metrics/cases/*.json $bad/evalset-*.json ;;
    decode_json|style_presets) seed "$1" resources/styles.json models/demo/esper.json ;;
    torch_checkpoint) # torch.save-shaped files made without torch
      python3 tools/make_checkpoint_seeds.py build-fuzz/seeds/torch_checkpoint >/dev/null
      echo build-fuzz/seeds/torch_checkpoint ;;
  esac
}

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(ESPER_FUZZ_TARGET=list "$fuzzer" 2>/dev/null)
fi
tag=${FUZZ_TAG:-}
results=build-fuzz/fuzz-results$tag.tsv
printf "target\texecutions\tseconds\tcorpus\tcrashes\n" >"$results"
for target in "${targets[@]}"; do
  kept=tests/fuzz/corpus/$target
  work=build-fuzz/work/$target$tag
  log=build-fuzz/$target$tag.log
  mkdir -p "$kept" "$work" build-fuzz/crashes
  seeds=$(seeds_for "$target")
  start=$(date +%s)
  set +e
  ESPER_FUZZ_TARGET=$target ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 \
    "$fuzzer" -runs="$runs" -max_len=16384 -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix=build-fuzz/crashes/"$target"- -print_final_stats=1 \
    "$work" "$kept" ${seeds:+"$seeds"} >"$log" 2>&1
  rc=$?
  set -e
  seconds=$(( $(date +%s) - start ))
  executions=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  # Keep a minimal corpus with the coverage of everything found so far (one instance at a time).
  (
    flock 9
    rm -rf "$kept.new" && mkdir -p "$kept.new"
    ESPER_FUZZ_TARGET=$target ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 \
      "$fuzzer" -merge=1 -max_len=16384 "$kept.new" "$kept" "$work" >/dev/null 2>&1 &&
      rm -rf "$kept" && mv "$kept.new" "$kept" || rm -rf "$kept.new"
  ) 9>build-fuzz/merge.lock
  crashes=$(find build-fuzz/crashes -name "$target-*" | wc -l)
  printf "%s\t%s\t%s\t%s\t%s\n" "$target" "$executions" "$seconds" "$(ls "$kept" | wc -l)" \
    "$crashes" | tee -a "$results"
  [ $rc -eq 0 ] || echo "fuzz: $target stopped (exit $rc); see $log" >&2
done
