"""float16 -> float32 conversion with vectorised integer ops (no torch needed).

numpy converts half floats one element at a time (~1.6 ns each here); reading a
100,000 x 1,024 float16 matrix spends most of its time there. This builds the
float32 bit pattern with a handful of SIMD integer/float ufuncs over cache-sized
pieces instead (~0.6 ns per element), exactly: every one of the 65,536 half values,
zeros, subnormals, inf and NaN payloads included, converts to the same bits as
numpy's cast (tested exhaustively).

The trick (F. Giesen, "half to float done quick"): shift the 15 exponent+mantissa
bits into float32 position and multiply by 2**112 to re-bias the exponent; float32
arithmetic renormalises half subnormals on the way. Inf/NaN (half exponent 31)
then only need the float32 exponent forced to all ones. The sign is OR-ed in last.
"""

from __future__ import annotations

import numpy as np

_PIECE = 1 << 16  # elements per pass: 128 KiB in, 256 KiB out, stays in L2
_REBIAS = np.float32(2.0**112)


def half_to_float32(src: np.ndarray, out: np.ndarray) -> None:
    """Write ``src`` (float16, C-contiguous) into ``out`` (float32, same shape, C-contiguous)."""
    if src.dtype != np.float16 or out.dtype != np.float32 or src.shape != out.shape:
        raise ValueError("half_to_float32: need float16 src and float32 out of the same shape")
    if not (src.flags.c_contiguous and out.flags.c_contiguous):
        raise ValueError("half_to_float32: arrays must be C-contiguous")
    h_all = src.reshape(-1).view(np.uint16)
    f_all = out.reshape(-1)
    n = h_all.size
    piece = min(_PIECE, n)
    mag = np.empty(piece, np.uint16)
    special = np.empty(piece, bool)
    sign = np.empty(piece, np.int32)
    for lo in range(0, n, piece):
        hi = min(lo + piece, n)
        h, f = h_all[lo:hi], f_all[lo:hi]
        m, sp, sg = mag[: hi - lo], special[: hi - lo], sign[: hi - lo]
        bits = f.view(np.uint32)
        np.bitwise_and(h, 0x7FFF, out=m)
        np.greater_equal(m, 0x7C00, out=sp)
        np.copyto(bits, m)
        np.left_shift(bits, 13, out=bits)
        np.multiply(f, _REBIAS, out=f)
        np.bitwise_or(bits, np.uint32(0x7F800000), out=bits, where=sp)
        np.copyto(sg, h.view(np.int16))
        np.bitwise_and(sg, np.int32(-(2**31)), out=sg)
        np.bitwise_or(bits, sg.view(np.uint32), out=bits)
