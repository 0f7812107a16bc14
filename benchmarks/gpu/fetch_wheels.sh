#!/usr/bin/env bash
# Download, here (where pip reaches the package registries), the wheels geneb needs that a
# lent GPU machine's image lacks (it has torch, transformers, numpy, scipy, scikit-learn,
# pyarrow, matplotlib, ...; not zarr, numcodecs, crc32c or polars), for its Python 3.12 on
# x86-64, into .whl/ (git-ignored). benchmarks/gpu/run.sh installs them there.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
# polars 1.33.1: one self-contained 40 MB wheel (2.x needs a 52 MB runtime beside it, over the
# 64 MiB a call may carry with the tree); geneb's probe and store tests pass on it
WHEELS=(zarr==3.1.6 donfig==0.8.1.post1 google-crc32c==1.9.0 numcodecs==0.16.6 crc32c==2.9.post0
        polars==1.33.1)
mkdir -p .whl
$PY -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl "${WHEELS[@]}"
du -sh .whl
