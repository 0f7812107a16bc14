"""float16 -> float32 conversion with vectorised integer ops (no torch needed).

numpy converts half floats one element at a time (~1.6 ns each here), which made the
conversion the largest cost of reading a float16 matrix. This builds the float32 bit
pattern with a few SIMD ufuncs over cache-sized pieces instead (~0.6 ns per element),
exactly: each of the 65,536 half values (zeros, subnormals, inf, NaN payloads
included) converts to the same bits as numpy's cast; the tests check all of them.

How (after F. Giesen, "half to float done quick"): widen the half's bits as a signed
int16, so the sign lands in bit 31; shift left by 13 so exponent and mantissa sit in
float32 position; clear bits 28-30 (left over from the sign extension); then multiply
the float by 2**112 to re-bias the exponent. Float arithmetic renormalises half
subnormals and keeps the sign. Halves with exponent 31 (inf/NaN) then only need the
float32 exponent forced to all ones, done only when a piece contains any.
"""

from __future__ import annotations

import numpy as np

_PIECE = 1 << 16  # elements per pass: 128 KiB in, 256 KiB out, stays in L2
_REBIAS = np.float32(2.0**112)
_KEEP = np.int32(-0x70000001)  # 0x8FFFFFFF: sign + 28 low bits
_EXP16 = np.int16(0x7C00)
_EXP32 = np.int32(0x7F800000)


def half_to_float32(src: np.ndarray, out: np.ndarray) -> None:
    """Write ``src`` (float16, C-contiguous) into ``out`` (float32, same shape, C-contiguous)."""
    if src.dtype != np.float16 or out.dtype != np.float32 or src.shape != out.shape:
        raise ValueError("half_to_float32: need float16 src and float32 out of the same shape")
    if not (src.flags.c_contiguous and out.flags.c_contiguous):
        raise ValueError("half_to_float32: arrays must be C-contiguous")
    h_all = src.reshape(-1).view(np.int16)
    f_all = out.reshape(-1)
    n = h_all.size
    piece = max(1, min(_PIECE, n))
    exp = np.empty(piece, np.int16)
    special = np.empty(piece, bool)
    for lo in range(0, n, piece):
        hi = min(lo + piece, n)
        h, f = h_all[lo:hi], f_all[lo:hi]
        bits = f.view(np.int32)
        np.copyto(bits, h)  # sign-extending widen: sign ends up in bit 31
        np.left_shift(bits, 13, out=bits)
        np.bitwise_and(bits, _KEEP, out=bits)
        np.multiply(f, _REBIAS, out=f)
        e, sp = exp[: hi - lo], special[: hi - lo]
        np.bitwise_and(h, _EXP16, out=e)
        np.equal(e, _EXP16, out=sp)
        if sp.any():
            np.bitwise_or(bits, _EXP32, out=bits, where=sp)
