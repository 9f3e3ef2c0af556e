#!/usr/bin/env bash
# The GPU checks in one call (CI has no GPU), most needed first, each under its own time limit:
#   1. on the GPU, a captured function and the compiled TD3 and SAC updates give what they give eagerly, and
#      run as CUDA graphs (the tests marked for a CUDA device in tests/unit/test_capture.py, tests/algos/test_compile.py);
#   2. TD3 and SAC on HalfCheetah-v5, ours and SB3 as whole processes on the same GPU (bench/peers.py);
#   3. the update alone: eager, compiled kernel by kernel, compiled as a CUDA graph, SB3 (bench/gpu_updates.py).
# Needs torch with CUDA, gymnasium[mujoco], tyro and stable-baselines3. Logs go to $OUT (default bench/results/gpu).
#   bash bench/gpu_checks.sh
set -u
out=${OUT:-bench/results/gpu}
mkdir -p "$out"
py=$(command -v python3 || command -v python)
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv | tee "$out/gpu.txt"
"$py" -c "import torch, os; print('torch', torch.__version__, torch.cuda.get_device_name(), os.cpu_count(), 'CPUs')" | tee -a "$out/gpu.txt"
echo "== 1. tests on the GPU"
timeout 150 "$py" -m pytest -q -p no:cacheprovider -x --tb=short -W ignore -k cuda tests/unit/test_capture.py \
    tests/algos/test_compile.py > "$out/tests.log" 2>&1
tail -n 15 "$out/tests.log"
echo "== 2. HalfCheetah-v5, ours and SB3 on the GPU"
timeout 250 "$py" bench/peers.py --env HalfCheetah-v5 --device cuda --algos td3 sac --sides "ours --compile" SB3 \
    --steps 4000 --from-step 2000 --learning-starts 1000 --repeats 2 --no-warm-up 2>&1 | tee "$out/peers.log"
echo "== 3. the update alone"
timeout 100 "$py" bench/gpu_updates.py --algos td3 sac --updates 200 --repeats 3 2>&1 | tee "$out/updates.log"
