"""Ways to compute a convolution's gradients, and the rule that picks one per layer shape and platform.

All take the zero-padded input `xp` (N, Hp, Wp, cin), the kernel (kh, kw, cin, cout), the gradient `gy`
(N, oh, ow, cout) of the loss with respect to the output, and the stride; they return
(d loss / d xp or None when `need_input` is False, d loss / d kernel, d loss / d bias), all float32:
    dK[di, dj, c, f] = Σ xp[i·s+di, j·s+dj, c] · gy[i, j, f]      db[f] = Σ gy[i, j, f]
    dxp[i·s+di, j·s+dj, c] += gy[i, j, f] · K[di, dj, c, f]        (summed over every tap and filter)
The bias gradient is summed in float64 and rounded once, by every method, on every platform.

As for the forward (conv_methods.py), what costs time differs by platform: with BLAS (CPython's OpenBLAS)
few long products win, once the shifted copies they need are made (`gy_stack`, `x_stack`); without BLAS
(Pyodide) einsum's multiply-add along long contiguous rows wins, per kernel tap (`taps_einsum`).
Measured per Tiny VGG layer in notes/engine-speed.md ("Session 7: backward in CPython"; bench/bench_backward.py).
"""
from __future__ import annotations

import numpy as np

from .conv_methods import NO_BLAS, SINGLE_THREAD_MNK, matmul_rows, tap_runs

#: x_stack's products P (one row per tap and input channel) are made this many bytes at a time (bounds their
#: memory; the shifted copies themselves are made one BLAS block at a time).
STACK_MAX_BYTES = 8 * 2**20


def _product_cols(m: int, n: int) -> int:
    """Columns per BLAS product of an (m × cols)·(cols × n) shape (or its transpose) that OpenBLAS keeps on one
    thread: m·n·cols ≤ 2 × 4·65536. Measured here by each thread's CPU ticks: no second thread up to 0.99 M
    for 90×10×k products, one from 1.04 M (and already at 0.79 M for 27×10×k); with it, a product waited for
    the shared machine's other core (conv_1_2's gradients took 40 ms instead of 0.4)."""
    return max(64, 2 * SINGLE_THREAD_MNK // max(1, m * n))


def _grid(gy, xp_shape, lead: int = 0) -> np.ndarray:
    """gy channels first on the padded input's grid: (cout, lead + N·Hp·Wp), gy[n, i, j, f] at
    lead + (n·Hp + i)·Wp + j, zeros everywhere else (past each row's last output, below the last output row,
    and the `lead` values before the first)."""
    n, hp, wp, _ = xp_shape
    oh, ow, cout = gy.shape[1:]
    grid = np.zeros((cout, lead + n * hp * wp), np.float32)
    grid[:, lead:].reshape(cout, n, hp, wp)[:, :, :oh, :ow] = gy.transpose(3, 0, 1, 2)
    return grid


def _grid_channels_last(gy, xp_shape) -> np.ndarray:
    """gy on the padded input's grid as it lies, channels last: (N·Hp·Wp, cout), zeros past the outputs."""
    n, hp, wp, _ = xp_shape
    oh, ow, cout = gy.shape[1:]
    grid = np.zeros((n * hp * wp, cout), np.float32)
    grid.reshape(n, hp, wp, cout)[:, :oh, :ow] = gy
    return grid


def _bias(gy: np.ndarray) -> np.ndarray:
    """Σ gy per filter in float64, rounded once. NumPy sums a tall array's columns a short row at a time
    (0.12 ms for Tiny VGG's 3 844 × 10), so the rows are first summed k at a time as one long row."""
    cout = gy.shape[-1]
    g = np.ascontiguousarray(gy).reshape(-1, cout)
    k = max(1, 512 // cout)
    head = g.shape[0] // k * k
    total = g[:head].reshape(-1, k * cout).sum(axis=0, dtype=np.float64).reshape(k, cout).sum(axis=0)
    if head < g.shape[0]:
        total += g[head:].sum(axis=0, dtype=np.float64)
    return total.astype(np.float32)


def _channels_last(xt: np.ndarray) -> np.ndarray:
    """(c, m) → (m, c) contiguous, one channel at a time (3× faster than a transposing copy for few channels)."""
    out = np.empty(xt.shape[::-1], np.float32)
    for c in range(xt.shape[0]):
        out[:, c] = xt[c]
    return out


def gy_stack(xp, kernel, gy, strides, need_input):
    """Stride 1, one stack serving both gradients. gy is laid channels first on the padded input's grid with
    (kh−1)·Wp + kw−1 zeros before it; the gradient reaching input position q from tap (di, dj) is gy at
    q − (di·Wp + dj), so the kh·kw shifted copies of that grid, stacked (kh·kw·cout rows), give
        dK (as kh·kw·cout × cin) = stack · xp (positions × cin, the input as it lies)
        dxp (positions × cin)    = stackᵀ · K (kh·kw·cout × cin)
    two products with kh·kw·cout-long sums or rows, in blocks of columns BLAS keeps on one thread; dxp comes
    out channels last, as the input lies. The copies are cout rows each: for cin ≥ cout (`x_stack` otherwise)."""
    kh, kw, cin, cout = kernel.shape
    n, hp, wp, _ = xp.shape
    m = n * hp * wp
    taps = kh * kw
    lead = (kh - 1) * wp + (kw - 1)
    grid = _grid(gy, xp.shape, lead)
    x2d = xp.reshape(m, cin)
    kmat = np.ascontiguousarray(kernel.transpose(0, 1, 3, 2)).reshape(taps * cout, cin) if need_input else None
    gx = np.empty((m, cin), np.float32) if need_input else None
    gkt = np.zeros((taps * cout, cin), np.float32)
    step = min(m, _product_cols(taps * cout, cin))  # its stack: taps·cout·step ≤ 2·4·65536 / cin values
    runs = tap_runs(grid, kh, kw, wp, lead, -1)  # [di, dj, f, q] = grid[f, lead − di·Wp − dj + q]
    stack = np.empty((taps * cout, step), np.float32)
    for i in range(0, m, step):
        j = min(m, i + step)
        np.copyto(stack[:, :j - i].reshape(kh, kw, cout, j - i), runs[..., i:j])
        block = stack[:, :j - i]
        gkt += block @ x2d[i:j]
        if need_input:
            np.matmul(block.T, kmat, out=gx[i:j])
    gk = np.ascontiguousarray(gkt.reshape(kh, kw, cout, cin).transpose(0, 1, 3, 2))
    return (gx.reshape(xp.shape) if need_input else None), gk, _bias(gy)


def x_stack(xp, kernel, gy, strides, need_input):
    """Stride 1, for few input channels (cin < cout): the input channels first, its kh·kw shifted copies
    stacked (kh·kw·cin rows, as the forward's `channels_first`), then
        dK (kh·kw·cin × cout) = stack · gy           (gy on the padded grid, channels last)
        P (kh·kw·cin × positions) = K · gy, and each tap's cin rows of P added into dxp at the tap's shift.
    The stack and P are cin rows per tap, fewer than `gy_stack`'s cout; the additions are the price."""
    kh, kw, cin, cout = kernel.shape
    n, hp, wp, _ = xp.shape
    m = n * hp * wp
    taps = kh * kw
    run = m - (kh - 1) * wp - (kw - 1)  # up to the last output position
    grid = _grid_channels_last(gy, xp.shape)  # (m, cout): no transposing copy of gy
    xt = np.ascontiguousarray(xp.reshape(m, cin).T)  # (cin, m)
    kmat = kernel.reshape(taps * cin, cout)
    gxt = np.zeros((cin, m), np.float32) if need_input else None
    gk = np.zeros((taps * cin, cout), np.float32)
    step = _product_cols(taps * cin, cout)
    cols = max(step, STACK_MAX_BYTES // (4 * taps * cin) // step * step)  # P's columns
    runs = tap_runs(xt, kh, kw, wp, 0, 1)  # [di, dj, c, q] = xt[c, di·Wp + dj + q]
    stack = np.empty((taps * cin, min(step, run)), np.float32)
    for c0 in range(0, run, cols):
        c1 = min(run, c0 + cols)
        part = np.empty((taps * cin, c1 - c0), np.float32) if need_input else None
        for i in range(0, c1 - c0, step):
            j = min(c1 - c0, i + step)
            np.copyto(stack[:, :j - i].reshape(kh, kw, cin, j - i), runs[..., c0 + i:c0 + j])
            g = grid[c0 + i:c0 + j]
            gk += stack[:, :j - i] @ g
            if need_input:
                np.matmul(kmat, g.T, out=part[:, i:j])
        if need_input:
            for di in range(kh):
                for dj in range(kw):
                    t, off = di * kw + dj, di * wp + dj
                    gxt[:, off + c0:off + c1] += part[t * cin:(t + 1) * cin]
    gx = _channels_last(gxt).reshape(xp.shape) if need_input else None
    return gx, gk.reshape(kernel.shape), _bias(gy)


def _taps_channels_first(xp, kernel, gy, need_input, einsum: bool):
    kh, kw, cin, cout = kernel.shape
    n, hp, wp, _ = xp.shape
    m = n * hp * wp
    run = m - (kh - 1) * wp - (kw - 1)  # = (n−1)·Hp·Wp + (oh−1)·Wp + ow: up to the last output position
    grid = _grid(gy, xp.shape)
    gt = grid[:, :run]  # (cout, run)
    xt = np.ascontiguousarray(xp.reshape(m, cin).T)  # (cin, m)
    gk = np.empty_like(kernel)
    gxt = np.zeros((cin, m), np.float32) if need_input else None
    for di in range(kh):
        for dj in range(kw):
            off = di * wp + dj
            if einsum:
                gk[di, dj] = np.einsum("ik,jk->ij", xt[:, off:off + run], gt)
                if need_input:
                    gxt[:, off:off + run] += np.einsum("ij,jk->ik", kernel[di, dj], gt)
                continue
            gk[di, dj] = _matmul_nt(xt[:, off:off + run], gt)
            if need_input:
                _add_matmul_cols(gxt[:, off:off + run], kernel[di, dj], gt)
    return (np.ascontiguousarray(gxt.T).reshape(xp.shape) if need_input else None), gk, _bias(gy)


def taps_einsum(xp, kernel, gy, strides, need_input):
    """Stride 1 without copying windows, channels first: gy is laid on the padded input's grid (zeros past
    the output's edge), so the input under tap (di, dj) of every position is one contiguous run of the
    flattened padded input, shifted by di·Wp + dj (a shift that wraps into the next row meets only those
    zeros); the runs stop at the last output position. Per tap, dK[di, dj] and that tap's share of dxp are
    einsums of a few rows by a long run: without BLAS (Pyodide), einsum's SIMD sum of products beat matmul 2.8×."""
    return _taps_channels_first(xp, kernel, gy, need_input, einsum=True)


def taps_matmul(xp, kernel, gy, strides, need_input):
    """`taps_einsum` with BLAS products per tap (CPython's method until session 7; kept to measure against)."""
    return _taps_channels_first(xp, kernel, gy, need_input, einsum=False)


def _long_step(p: int, q: int) -> int:
    """How much of the long axis one product of a (p, ·) by a (·, q) shape may take. Measured with OpenBLAS here
    (10×10 channels): up to ~4096 the time grows linearly and stays on one thread; at 16 000 it is 3–8× slower
    per column, and with 65 536 a second thread made one product 17× slower on the shared machine."""
    return max(256, min(4096, 2 * SINGLE_THREAD_MNK // max(1, p * q)))


def _matmul_nt(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b.T for a (p, k), b (q, k) with few rows and a long k, summed over blocks of k."""
    step = _long_step(a.shape[0], b.shape[0])
    out = a[:, :step] @ b[:, :step].T
    for i in range(step, a.shape[1], step):
        out += a[:, i:i + step] @ b[:, i:i + step].T
    return out


def _add_matmul_cols(out: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """out += a @ b for a (p, k) small, b (k, r) with a long r, in blocks of columns."""
    step = _long_step(a.shape[0], a.shape[1])
    for i in range(0, b.shape[1], step):
        out[:, i:i + step] += a @ b[:, i:i + step]


def _matmul_inner(a_t: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a_t.T @ b (a sum over their shared first axis), in blocks small enough for BLAS to keep on one thread."""
    step = max(1, SINGLE_THREAD_MNK // max(1, a_t.shape[1] * b.shape[1]))
    if a_t.shape[0] <= step:
        return a_t.T @ b
    out = a_t[:step].T @ b[:step]
    for i in range(step, a_t.shape[0], step):
        out += a_t[i:i + step].T @ b[i:i + step]
    return out


def strided(xp, kernel, gy, strides, need_input):
    """Any stride: per tap, dK[di, dj] = (the input under the tap at every output)ᵀ · gy, and the input under
    the tap receives gy · K[di, dj]ᵀ."""
    kh, kw, cin, cout = kernel.shape
    sh, sw = strides
    n = xp.shape[0]
    oh, ow = gy.shape[1:3]
    g2 = np.ascontiguousarray(gy).reshape(-1, cout)
    gk = np.empty_like(kernel)
    gxp = np.zeros(xp.shape, np.float32) if need_input else None
    for di in range(kh):
        for dj in range(kw):
            rows = slice(di, di + (oh - 1) * sh + 1, sh)
            cols = slice(dj, dj + (ow - 1) * sw + 1, sw)
            gk[di, dj] = _matmul_inner(xp[:, rows, cols].reshape(-1, cin), g2)
            if need_input:
                gxp[:, rows, cols] += matmul_rows(g2, kernel[di, dj].T).reshape(n, oh, ow, cin)
    return gxp, gk, _bias(gy)


METHODS = {"gy_stack": gy_stack, "x_stack": x_stack, "taps_einsum": taps_einsum, "taps_matmul": taps_matmul,
           "strided": strided}
#: methods that compute stride 1 only
STRIDE_1_ONLY = ("gy_stack", "x_stack", "taps_einsum", "taps_matmul")


def choose(kernel_shape, strides, no_blas: bool = NO_BLAS) -> str:
    """With BLAS (CPython), stride 1: `gy_stack`, or `x_stack` when the layer has fewer input channels than
    filters (its copies and products are then smaller). Without BLAS (Pyodide), stride 1: `taps_einsum`.
    Any other stride: `strided`. The choice does not depend on whether d / d input is asked for, so
    training (which skips it) gets the same parameter gradients bit for bit."""
    if tuple(strides) != (1, 1):
        return "strided"
    if no_blas:
        return "taps_einsum"
    _, _, cin, cout = kernel_shape
    return "x_stack" if cin < cout else "gy_stack"
