#!/usr/bin/env bash
# Issue 15's GPU checks in one run on a lent device (about 6-8 minutes on an H100):
#   1. bf16 extraction tokens/s and TFLOP/s against the chip's bf16 matmul rate and nominal
#      peak, for a ~100M-parameter BERT-like and a DNABERT-2-shaped model (bench_gpu.py);
#   2. the probe grid with the torch backend on the GPU against scikit-learn on the CPU,
#      time and identity of the numbers (bench_probe.py);
#   3. the MCC bound of the torch backend against scikit-learn, cell by cell (bench_backends.py).
# cuML is not in the device image and too large to carry: its path stays unmeasured.
#
# Here first: benchmarks/gpu/fetch_wheels.sh (the wheels the image lacks, into .whl/). Then,
# from the device tool:  run(command="bash benchmarks/gpu/run.sh", carry=[".whl"], timeout_s=570)
# The records land in $OUT (GPU_RESULTS.md, PROBE_GPU.md, BACKEND_GPU.md, run.log); copy
# them into benchmarks/ with the device named (the records name it themselves).
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/geneb-gpu}
mkdir -p "$OUT"
exec > >(tee "$OUT/run.log") 2>&1
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || { echo "wheel install failed: run benchmarks/gpu/fetch_wheels.sh here and carry .whl"; exit 1; }
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv || true
python3 -c "import torch, transformers, polars, zarr, geneb; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '-', '| transformers', transformers.__version__, '| polars', polars.__version__, '| zarr', zarr.__version__)" || exit 1
rc=0
echo "== extraction (bf16 vs float32)"
timeout 260 python3 benchmarks/bench_gpu.py --out "$OUT/GPU_RESULTS.md" || rc=1
echo "== probe grid: torch on the GPU vs scikit-learn on the CPU"
timeout 170 python3 benchmarks/bench_probe.py --suite synthetic --n-tasks 20 --n-scale 0.1 --jobs 4 --md "$OUT/PROBE_GPU.md" || rc=1
echo "== torch backend's MCC bound"
timeout 100 python3 benchmarks/bench_backends.py --suite synthetic --n-tasks 20 --n-scale 0.1 --md "$OUT/BACKEND_GPU.md" || rc=1
exit $rc
