"""Benchmark: bf16 extraction on a GPU against the chip's own bf16 matrix rate.

For each model shape, random weights built in code (the `random-init` family, so nothing
is downloaded) and mixed-length DNA (one token per base):

- ``bert-100m``: a BERT-base encoder (768 wide, 12 layers, 12 heads, 3,072 feed-forward;
  ~86M parameters in the encoder) on 100-510 nt;
- ``dnabert2-shape``: the same encoder at DNABERT-2-117M's sizes (768 x 12, 12 heads,
  3,072 feed-forward, 512 positions; its BPE averages ~5 bases a token, so 512 tokens stand
  for ~2.5 kb) on sequences of 256-512 tokens. It is the shape, not DNABERT-2's own code
  (ALiBi, GEGLU, unpadding), which `tests/test_family_dnabert2.py` checks on stand-ins.

Each is embedded end to end by `geneb.embed` into a temporary store, twice: with the
default compute dtype (bf16 autocast on CUDA) and in float32. Reported: real tokens/s,
the encoder's FLOP count on real tokens (as `bench_extract.forward_flops`) per second, that
rate against a bf16 (and a float32) 8192^3 matmul measured in the same run and against the
chip's nominal dense bf16 peak, and how far the bf16 vectors are from the float32 ones.

The probe on the GPU is measured by the existing benchmarks (`bench_probe.py`: the torch
backend, which uses CUDA when torch sees it, against scikit-learn on the CPU;
`bench_backends.py`: the MCC bound); `benchmarks/gpu/run.sh` runs all three on a lent
device and collects the records.

    python benchmarks/bench_gpu.py                          # on a CUDA machine
    python benchmarks/bench_gpu.py --tiny --device cpu --out /tmp/g.md   # seconds, tests
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _record import machine, versions  # noqa: E402
from bench_extract import forward_flops, make_sequences, matmul_rate, write_task  # noqa: E402

#: Nominal dense bf16 tensor-core peaks (TFLOP/s, no sparsity) by device-name fragment.
NOMINAL_BF16_TFLOPS = {"H200": 989.4, "H100 80GB HBM3": 989.4, "H100 PCIe": 756.0, "H100 NVL": 835.0,
                       "A100": 312.0, "L40S": 362.0}
#: (name, hidden, layers, heads, intermediate, max tokens, min nt, max nt)
SHAPES = {
    "bert-100m": (768, 12, 12, 3072, 512, 100, 510),
    "dnabert2-shape": (768, 12, 12, 3072, 512, 256, 510),
}
TINY = {"bert-100m": (64, 2, 2, 256, 128, 20, 120), "dnabert2-shape": (64, 2, 2, 256, 128, 60, 120)}


def nominal_peak(device_name: str) -> float | None:
    for key, tflops in NOMINAL_BF16_TFLOPS.items():
        if key in device_name:
            return tflops * 1e12
    return None


def spec_for(name: str, shape: tuple) -> object:
    from geneb.catalog import ModelSpec

    hidden, layers, heads, inter, max_tokens, _, _ = shape
    return ModelSpec(
        model_id=f"gpu-{name}", display=name, family="random-init", max_length=max_tokens,
        config={"arch": "bert", "hidden_size": hidden, "num_layers": layers, "num_heads": heads,
                "intermediate_size": inter, "max_position_embeddings": max_tokens, "seed": 0},
    )


def embed_once(spec, task: str, data_dir: Path, device: str, compute_dtype: str, tmp: Path) -> tuple[float, np.ndarray]:
    """Wall seconds of `geneb.embed` of one task into a fresh store, and the stored train X."""
    from geneb.extract import ExtractOptions, embed
    from geneb.extract.runner import store_model_id
    from geneb.store import open_store

    store = tmp / f"{spec.model_id}-{compute_dtype}.zarr"
    t = time.perf_counter()
    embed([spec], [task], str(store), data_dir=data_dir, device=device,
          options=ExtractOptions(compute_dtype=compute_dtype), progress=False)
    secs = time.perf_counter() - t
    return secs, open_store(str(store)).X(store_model_id(spec), task, "train")


def run(args: argparse.Namespace) -> dict:
    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    name = torch.cuda.get_device_name(0) if device.startswith("cuda") else "cpu"
    n_mm = 2048 if args.tiny else args.matmul_n
    res: dict = {"device": device, "device_name": name, "models": [],
                 "bf16_rate": matmul_rate(n_mm, n_mm, n_mm, device=device, dtype="bfloat16"),
                 "fp32_rate": matmul_rate(n_mm, n_mm, n_mm, device=device, dtype="float32"),
                 "nominal_bf16": nominal_peak(name), "matmul_n": n_mm}
    shapes = TINY if args.tiny else SHAPES
    n = 40 if args.tiny else args.n
    with tempfile.TemporaryDirectory(prefix="bench_gpu_") as tmp_s:
        tmp = Path(tmp_s)
        for mname, shape in shapes.items():
            hidden, layers, heads, inter, max_tokens, lo, hi = shape
            spec = spec_for(mname, shape)
            seqs = make_sequences(n, lo, min(hi, max_tokens - 2), seed=1)
            task = f"gpu_{mname.replace('-', '_')}"
            write_task(tmp / "data", task, seqs)
            tokens = [min(len(s), max_tokens - 2) + 2 for s in seqs]  # [CLS] ... [SEP]
            flops = forward_flops(tokens, hidden, layers, inter)
            row = {"name": mname, "shape": shape, "n": n, "tokens": int(sum(tokens)), "flops": flops}
            embed_once(spec, task, tmp / "data", device, "auto", tmp / "warm")  # CUDA context, kernels, caches
            for cd in ("auto", "float32"):
                secs, X = embed_once(spec, task, tmp / "data", device, cd, tmp)
                row[cd] = {"seconds": secs, "tokens_per_s": row["tokens"] / secs, "flops_per_s": flops / secs, "X": X}
            a, b = row["auto"].pop("X"), row["float32"].pop("X")
            row["bf16_vs_fp32_max_rel"] = float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(b))), 1e-30))
            cos = np.sum(a * b, 1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
            row["bf16_vs_fp32_min_cos"] = float(cos.min())
            res["models"].append(row)
    return res


def report(res: dict, argv: list[str]) -> str:
    gf = 1e12
    lines = [
        f"## {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}: {res['device_name']}",
        "",
        f"- machine: {machine()}",
        f"- versions: {versions()}",
        f"- command: `python benchmarks/bench_gpu.py {' '.join(argv)}`",
        f"- measured matmul rates, {res['matmul_n']}^3, same run: bf16 **{res['bf16_rate'] / gf:,.1f} TFLOP/s**, "
        f"float32 {res['fp32_rate'] / gf:,.1f} TFLOP/s"
        + (f"; nominal dense bf16 peak {res['nominal_bf16'] / gf:,.1f} TFLOP/s" if res["nominal_bf16"] else ""),
        "",
        "| model | sequences | real tokens | compute | seconds | tokens/s | TFLOP/s (real tokens) | vs measured matmul | vs nominal bf16 peak |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for m in res["models"]:
        cuda = res["device"].startswith("cuda")
        auto = ("bf16 autocast (default)", res["bf16_rate"]) if cuda else ("auto = float32 on a CPU", res["fp32_rate"])
        for cd, (label, rate) in (("auto", auto), ("float32", ("float32", res["fp32_rate"]))):
            r = m[cd]
            nom = f"{r['flops_per_s'] / res['nominal_bf16']:.1%}" if res["nominal_bf16"] else "-"
            lines.append(f"| {m['name']} ({m['shape'][0]} x {m['shape'][1]}) | {m['n']:,} | {m['tokens']:,} | {label} | "
                         f"{r['seconds']:.2f} | {r['tokens_per_s']:,.0f} | {r['flops_per_s'] / gf:,.2f} | "
                         f"{r['flops_per_s'] / rate:.1%} | {nom} |")
    lines.append("")
    for m in res["models"]:
        lines.append(f"- {m['name']}: default-compute vs float32 vectors: max relative difference {m['bf16_vs_fp32_max_rel']:.2e}, "
                     f"lowest cosine {m['bf16_vs_fp32_min_cos']:.6f}; default vs float32 speed-up "
                     f"{m['auto']['tokens_per_s'] / m['float32']['tokens_per_s']:.2f}x")
    lines.append("")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default=None, help="cuda or cpu (default: cuda when torch sees one)")
    ap.add_argument("--n", type=int, default=4000, help="sequences per model (default 4000)")
    ap.add_argument("--matmul-n", type=int, default=8192, help="matmul size for the rate (default 8192)")
    ap.add_argument("--tiny", action="store_true", help="a seconds-long run (tests): tiny shapes, 40 sequences")
    ap.add_argument("--out", default=str(HERE / "GPU_RESULTS.md"), help="markdown file to append results to")
    return ap


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    res = run(args)
    text = report(res, argv)
    with open(args.out, "a") as f:
        f.write(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
