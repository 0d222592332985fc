#!/bin/bash
# The CUDA half of the engine's checks, for a GPU machine (../shared/device/README.md): builds
# the engine against that machine's CUDA LibTorch, runs the parity checks on CUDA in fp32, fp16
# and bf16, and benchmarks the engine beside the Hugging Face peer in the same run, so the two
# are comparable. Run from the repository root with .devkit/ unpacked (make-kit.sh); writes its
# logs to $OUT (or ./gpu-out): at most 8 files, because the device tool returns no more.
set -uo pipefail
out=${OUT:-$PWD/gpu-out}
mkdir -p "$out"
exec > >(tee -a "$out/log.txt") 2>&1
step() { echo "=== $* ($(date +%T))"; }
fixtures=tests/data/reference/models
esper=build-gpu/app/cli/esper

step machine
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
echo "cores: $(nproc)"
source .devkit/env.sh
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'

step configure and build
{ cmake -S . -B build-gpu -G Ninja -DESPER_ENGINE_ONLY=ON -DESPER_CUDA_TESTS=ON -DCMAKE_BUILD_TYPE=Release &&
  ninja -C build-gpu -k 0; } > "$out/build.txt" 2>&1
echo "build exit $?"
grep -E "error:|FAILED:|CMake Error" "$out/build.txt" | head -40
[ -x "$esper" ] || { echo "no esper binary: see build.txt"; exit 1; }

step ctest gpu
(cd build-gpu && ctest -L gpu --output-on-failure --timeout 120) > "$out/ctest.txt" 2>&1
grep -E "tests passed|Failed|\*\*\*" "$out/ctest.txt"

step verify with every difference recorded
for m in gpt2-tiny gpt2-tiny-hub-layout llama-tiny clip-tiny; do
  io=()
  [ "$m" = gpt2-tiny-hub-layout ] && io=(--io "$fixtures/gpt2-tiny/io.safetensors")
  for dt in fp32 fp16 bf16; do
    echo "## $m $dt"
    timeout 60 "$esper" verify-reference "$fixtures/$m" "${io[@]}" --device cuda --dtype "$dt" \
      --tolerance 1 --json
  done
done > "$out/verify.txt" 2>&1
grep -E "^## |max_abs_diff|tokens_match" "$out/verify.txt" | head -80

step engine bench
for dt in fp32 fp16 bf16; do
  echo "## esper bench cuda $dt"
  timeout 150 "$esper" bench --device cuda --dtype "$dt" --repeats 5
done > "$out/bench.txt" 2>&1
grep -A40 '"decode_loops"' "$out/bench.txt" | grep -E '"batch"|_ms"|speedup'
tail -c 3000 "$out/bench.txt"

step peer bench
PYTHONUNBUFFERED=1 timeout 200 python3 .devkit/bench_hf.py > "$out/bench_hf.txt" 2>&1
cat "$out/bench_hf.txt" | tail -20
step done
