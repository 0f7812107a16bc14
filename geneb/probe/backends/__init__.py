"""Probe backends behind one contract (see `base.Backend`): `sklearn` (the reference),
`torch` (batched L2 logistic regression, CPU or GPU) and `cuml` (GPU). Heavy libraries
are imported only when their backend is used."""

from __future__ import annotations

import importlib.util
import os

from ...catalog import ProtocolSpec
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
    """The concrete backend for ``name``; ``auto`` = the fastest available one valid for
    the protocol: cuML, then torch on a GPU; on a CPU the exact scikit-learn reference."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    if name != "auto":
        return name
    if protocol.probe == "logreg":
        if _cuml_usable():
            return "cuml"
        if _cuda_usable_by_torch():
            return "torch"
    return "sklearn"


def get_backend(name: str, protocol: ProtocolSpec) -> Backend:
    """A ready backend instance; raises a clear error when it cannot run the protocol."""
    name = resolve_backend_name(name, protocol)
    if name == "sklearn":
        from .sklearn_backend import SklearnBackend

        backend: Backend = SklearnBackend()
    elif name == "torch":
        if importlib.util.find_spec("torch") is None:
            raise ImportError("backend 'torch' needs PyTorch: pip install torch (or use --backend sklearn)")
        from .torch_backend import TorchBackend

        backend = TorchBackend()
    else:
        if importlib.util.find_spec("cuml") is None:
            raise ImportError("backend 'cuml' needs RAPIDS cuML on a CUDA GPU: pip install 'geneb[gpu]'")
        from .cuml_backend import CumlBackend

        backend = CumlBackend()
    if not backend.supports(protocol):
        raise ValueError(
            f"backend {name!r} does not implement protocol {protocol.name!r} "
            f"(probe {protocol.probe!r}); use --backend sklearn"
        )
    return backend


__all__ = [
    "BACKENDS", "Backend", "FitOutcome", "FitSpec", "fit_recording_convergence",
    "get_backend", "resolve_backend_name",
]
