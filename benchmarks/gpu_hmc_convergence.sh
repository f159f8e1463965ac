#!/usr/bin/env bash
# Which setting buys HMC's function-space convergence (#16, #21)? Four settings of
# bench_hmc_convergence.py side by side on one GPU (each a process; the fc nets are too
# small to fill the card alone), 3 chains of NUTS each, 100 warmup + 100 draws, depth 5:
#   images2k_h128       the default workstation study's data (the CPU baseline's setting)
#   images60k_h128      all of MNIST's training images
#   images60k_h128_ens  all images, chains started at ensemble members (det nets)
#   images60k_h512      all images, the paper's MNIST width
# Usage (a bare GPU machine with torch): benchmarks/gpu_hmc_convergence.sh DATA OUT
# with DATA holding train.pt and test.pt (results/datasets/mnist). Writes OUT/<setting>.txt:
# the progress log, then the JSON line of results.
set -u
data=$1 out=$2 limit=${LIMIT:-500}
common=(--data "$data" --device cuda --chains 3 --warmup 100 --samples 100 --depth 5
        --log-every 50)
run() {
  local name=$1; shift
  PYTHONUNBUFFERED=1 timeout "$limit" python3 benchmarks/bench_hmc_convergence.py \
    "${common[@]}" "$@" > "$out/$name.txt" 2>&1 &
}
run images2k_h128 --images 2000 --hidden 128
run images60k_h128 --images 60000 --hidden 128
run images60k_h128_ens --images 60000 --hidden 128 --init ensemble
run images60k_h512 --images 60000 --hidden 512
wait
nvidia-smi --query-gpu=name,memory.used --format=csv > "$out/gpu.txt"
tail -n 1 "$out"/*.txt
