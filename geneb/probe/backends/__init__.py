"""Probe backends behind one contract (see `base.Backend`): `sklearn` (the reference),
`torch` (batched L2 logistic regression, CPU or GPU) and `cuml` (GPU). Heavy libraries
are imported only when their backend is used.

Each protocol names the one backend its numbers come from (`ProtocolSpec.backend`):
geneb-v1 is scikit-learn's lbfgs, as the published harness runs it. torch and cuML do
not reach scikit-learn's answers closely enough to carry that name (measured in
benchmarks/BACKEND_RESULTS.md), so their rows are the variant protocols
`geneb-v1+torch` / `geneb-v1+cuml`, which never rank with geneb-v1."""

from __future__ import annotations

import importlib.util
import os

from ...catalog import ProtocolSpec
from ...errors import InvalidArgument, MissingPackage
from .base import Backend, FitOutcome, FitSpec, fit_recording_convergence

BACKENDS = ("auto", "sklearn", "cuml", "torch")


def _nvidia_present() -> bool:
    # Cheap check before importing torch/cupy: a CPU box never pays for the import.
    return os.path.exists("/proc/driver/nvidia/version") or bool(os.environ.get("CUDA_VISIBLE_DEVICES"))


def _cuda_usable_by_torch() -> bool:
    if importlib.util.find_spec("torch") is None or not _nvidia_present():
        return False
    import torch

    return bool(torch.cuda.is_available())


def _cuml_usable() -> bool:
    if importlib.util.find_spec("cuml") is None or not _nvidia_present():
        return False
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # noqa: BLE001 - any CUDA runtime failure means "not usable"
        return False


def resolve_backend_name(name: str, protocol: ProtocolSpec) -> str:
    """The concrete backend for ``name`` under ``protocol``.

    A protocol's numbers come from one solver (``protocol.backend``): ``auto`` is that
    solver, whatever the hardware (scikit-learn for geneb-v1, geneb-robust and geneb-mlp;
    torch for ``geneb-v1+torch``; cuML for ``geneb-v1+cuml``). Any other backend raises:
    torch or cuML rows are never labelled geneb-v1 (ask for ``geneb-v1+torch``)."""
    if name not in BACKENDS:
        raise InvalidArgument(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    if name == "auto" or name == protocol.backend:
        return protocol.backend
    from ...catalog.protocols import protocol_for_backend

    try:
        variant = protocol_for_backend(protocol.name, name)
    except (KeyError, ValueError):
        raise InvalidArgument(
            f"backend {name!r} does not implement protocol {protocol.name!r} "
            f"(probe {protocol.probe!r}); use --backend {protocol.backend}"
        ) from None
    raise InvalidArgument(
        f"backend {name!r} does not compute protocol {protocol.name!r}: its numbers come from "
        f"{protocol.backend} only. The {name} backend's rows are protocol {variant!r} (same settings, "
        f"another solver; never ranked with {protocol.name!r}): ask for protocol={variant!r}"
    )


def get_backend(name: str, protocol: ProtocolSpec) -> Backend:
    """A ready backend instance; raises a clear error when it cannot run the protocol."""
    name = resolve_backend_name(name, protocol)
    if name == "sklearn":
        from .sklearn_backend import SklearnBackend

        backend: Backend = SklearnBackend()
    elif name == "torch":
        if importlib.util.find_spec("torch") is None:
            raise MissingPackage("backend 'torch' needs PyTorch: pip install torch (or use --backend sklearn)")
        from .torch_backend import TorchBackend

        backend = TorchBackend()
    else:
        if importlib.util.find_spec("cuml") is None:
            raise MissingPackage("backend 'cuml' needs RAPIDS cuML on a CUDA GPU: pip install 'geneb[gpu]'")
        from .cuml_backend import CumlBackend

        backend = CumlBackend()
    if not backend.supports(protocol):
        raise InvalidArgument(
            f"backend {name!r} does not implement protocol {protocol.name!r} "
            f"(probe {protocol.probe!r}); use --backend sklearn"
        )
    return backend


__all__ = [
    "BACKENDS", "Backend", "FitOutcome", "FitSpec", "fit_recording_convergence",
    "get_backend", "resolve_backend_name",
]
