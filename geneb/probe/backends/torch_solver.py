"""Batched L2-regularised logistic regression in torch, with scikit-learn's objective.

For each problem b (n_b rows, C the inverse regularisation strength):

    f_b(W, c) = (1/n_b) * sum_i loss(x_i W + c, y_i) + (1 / (2 C n_b)) * ||W||^2

with the binomial loss and one weight vector for two classes and the multinomial loss
for more (exactly as scikit-learn's lbfgs solver), the intercept unpenalised. Many
problems of one task (every seed's and regime's k-shot draw) are padded into one
batch and solved together by a per-problem L-BFGS with Armijo backtracking: each
problem keeps its own curvature history, step length and stopping test (max-abs
gradient <= gtol), so a batch converges like its problems solved one by one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class BatchSolution:
    coef: np.ndarray  # (B, d, K') with K' = 1 for binary problems, K otherwise
    intercept: np.ndarray  # (B, K')
    converged: np.ndarray  # (B,) bool
    n_iter: np.ndarray  # (B,) int


def _objective(X, T, w8, lam, params, d, kk, binary):
    """Loss and gradient for every problem. X (B, n, d); T targets: (B, n) float 0/1
    for binary, (B, n, K) one-hot otherwise; w8 (B, n) row weights (1/n_b or 0 pad)."""
    import torch

    B = params.shape[0]
    W = params[:, : d * kk].reshape(B, d, kk)
    c = params[:, d * kk :]
    Wx = W.to(X.dtype)
    Z = (torch.bmm(X, Wx).to(params.dtype)) + c[:, None, :]
    if binary:
        z = Z[..., 0]
        loss = torch.nn.functional.softplus(z) - T * z
        G = (torch.sigmoid(z) - T) * w8  # (B, n)
        G = G[..., None]
    else:
        lse = torch.logsumexp(Z, dim=2)
        loss = lse - (Z * T).sum(dim=2)
        G = (torch.softmax(Z, dim=2) - T) * w8[..., None]  # (B, n, K)
    f = (loss * w8).sum(dim=1) + 0.5 * lam * (W * W).sum(dim=(1, 2))
    gW = torch.bmm(X.transpose(1, 2), G.to(X.dtype)).to(params.dtype) + lam[:, None, None] * W
    gc = G.sum(dim=1)
    return f, torch.cat([gW.reshape(B, -1), gc], dim=1)


def solve_batch(
    X: Any,
    y: Any,
    counts: Any,
    n_classes: int,
    C: float = 1.0,
    gtol: float = 1e-6,
    max_iter: int = 2000,
    history: int = 10,
    dtype: Any = None,
) -> BatchSolution:
    """Solve B padded problems. X (B, n_max, d) float tensor; y (B, n_max) long class
    indices 0..K-1 (padding rows arbitrary); counts (B,) real rows per problem."""
    import torch

    dtype = dtype or torch.float64
    dev = X.device
    B, n_max, d = X.shape
    binary = n_classes == 2
    kk = 1 if binary else n_classes
    rows = torch.arange(n_max, device=dev)[None, :]
    counts = counts.to(dev)
    valid = rows < counts[:, None]
    w8 = valid.to(dtype) / counts[:, None].to(dtype)
    T = (y == 1).to(dtype) if binary else torch.nn.functional.one_hot(y, n_classes).to(dtype)
    lam = 1.0 / (C * counts.to(dtype))
    P = d * kk + kk
    x = torch.zeros(B, P, dtype=dtype, device=dev)
    f, g = _objective(X, T, w8, lam, x, d, kk, binary)
    S = torch.zeros(B, history, P, dtype=dtype, device=dev)
    Yh = torch.zeros_like(S)
    rho = torch.zeros(B, history, dtype=dtype, device=dev)
    n_iter = torch.zeros(B, dtype=torch.long, device=dev)
    active = g.abs().amax(dim=1) > gtol
    gamma = torch.ones(B, dtype=dtype, device=dev)
    for _ in range(max_iter):
        if not bool(active.any()):
            break
        # two-loop recursion, vectorised over problems (rho = 0 marks empty slots)
        q = g.clone()
        alpha = torch.zeros(B, history, dtype=dtype, device=dev)
        for j in range(history - 1, -1, -1):
            alpha[:, j] = rho[:, j] * (S[:, j] * q).sum(dim=1)
            q -= alpha[:, j, None] * Yh[:, j]
        r = q * gamma[:, None]
        for j in range(history):
            beta = rho[:, j] * (Yh[:, j] * r).sum(dim=1)
            r += S[:, j] * (alpha[:, j] - beta)[:, None]
        direction = -r
        slope = (g * direction).sum(dim=1)
        bad = slope >= 0  # not a descent direction: fall back to steepest descent
        if bool(bad.any()):
            direction[bad] = -g[bad]
            slope = torch.where(bad, -(g * g).sum(dim=1), slope)
        first = rho.abs().sum(dim=1) == 0
        step = torch.where(first, torch.clamp(1.0 / direction.abs().sum(dim=1), max=1.0), torch.ones_like(f))
        # Armijo backtracking, each problem its own step; finished problems stay put
        pending = active.clone()
        x_new, f_new, g_new = x.clone(), f.clone(), g.clone()
        for _ls in range(40):
            trial = x + step[:, None] * direction
            ft, gt = _objective(X, T, w8, lam, trial, d, kk, binary)
            ok = pending & (ft <= f + 1e-4 * step * slope)
            x_new[ok], f_new[ok], g_new[ok] = trial[ok], ft[ok], gt[ok]
            pending &= ~ok
            if not bool(pending.any()):
                break
            step = torch.where(pending, step * 0.5, step)
        moved = active & ~pending
        s, yv = x_new - x, g_new - g
        sy = (s * yv).sum(dim=1)
        good = moved & (sy > 1e-12 * (yv * yv).sum(dim=1).clamp(min=1e-300))
        S, Yh, rho = S.roll(-1, dims=1), Yh.roll(-1, dims=1), rho.roll(-1, dims=1)
        S[:, -1], Yh[:, -1] = s, yv
        rho[:, -1] = torch.where(good, 1.0 / sy.clamp(min=1e-300), torch.zeros_like(sy))
        gamma = torch.where(good, sy / (yv * yv).sum(dim=1).clamp(min=1e-300), gamma)
        x, f, g = x_new, f_new, g_new
        n_iter += active.long()
        # stop: gradient small, or no progress possible (line search failed)
        active = active & moved & (g.abs().amax(dim=1) > gtol)
    conv = g.abs().amax(dim=1) <= gtol
    W = x[:, : d * kk].reshape(B, d, kk)
    c = x[:, d * kk :]
    return BatchSolution(W.cpu().numpy(), c.cpu().numpy(), conv.cpu().numpy(), n_iter.cpu().numpy())
