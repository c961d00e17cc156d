"""Naive reference implementations, one output value at a time, in float64.

Written from the definitions (TensorFlow's 'same'/'valid' rules), sharing no code with cnn101.engine,
so that the engine's vectorised layers can be checked against them.
"""
from __future__ import annotations

import math

import numpy as np


def out_size(n: int, k: int, s: int, padding: str) -> int:
    """TensorFlow: 'valid' → ceil((n − k + 1) / s); 'same' → ceil(n / s)."""
    return math.ceil((n - k + 1) / s) if padding == "valid" else math.ceil(n / s)


def pad_before(n: int, k: int, s: int, padding: str) -> int:
    """Rows (or columns) of padding before the input; TF puts the odd one after."""
    if padding == "valid":
        return 0
    total = max((out_size(n, k, s, padding) - 1) * s + k - n, 0)
    return total // 2


def conv2d(x, kernel, bias, strides=(1, 1), padding="valid"):
    """x (H, W, C), kernel (kh, kw, C, F), bias (F,) → (H', W', F); zero padding, cross-correlation."""
    x, kernel = np.asarray(x, np.float64), np.asarray(kernel, np.float64)
    h, w, c = x.shape
    kh, kw, _, f = kernel.shape
    sh, sw = strides
    oh, ow = out_size(h, kh, sh, padding), out_size(w, kw, sw, padding)
    top, left = pad_before(h, kh, sh, padding), pad_before(w, kw, sw, padding)
    out = np.zeros((oh, ow, f))
    for i in range(oh):
        for j in range(ow):
            for o in range(f):
                acc = float(bias[o])
                for di in range(kh):
                    r = i * sh + di - top
                    if not 0 <= r < h:
                        continue  # a zero of the padding
                    for dj in range(kw):
                        col = j * sw + dj - left
                        if not 0 <= col < w:
                            continue
                        acc += float(np.dot(x[r, col, :], kernel[di, dj, :, o]))
                out[i, j, o] = acc
    return out


def maxpool2d(x, pool=(2, 2), strides=None, padding="valid"):
    """x (H, W, C) → (H', W', C): the max of the input values inside each window (padding is ignored)."""
    x = np.asarray(x, np.float64)
    h, w, c = x.shape
    ph, pw = pool
    sh, sw = strides or pool
    oh, ow = out_size(h, ph, sh, padding), out_size(w, pw, sw, padding)
    top, left = pad_before(h, ph, sh, padding), pad_before(w, pw, sw, padding)
    out = np.zeros((oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            for ch in range(c):
                best = -math.inf
                for di in range(ph):
                    for dj in range(pw):
                        r, col = i * sh + di - top, j * sw + dj - left
                        if 0 <= r < h and 0 <= col < w:
                            best = max(best, x[r, col, ch])
                out[i, j, ch] = best
    return out


def flatten(x):
    """(H, W, C) → (H·W·C,) with index (row·W + col)·C + channel."""
    h, w, c = x.shape
    out = np.zeros(h * w * c, dtype=np.asarray(x).dtype)
    for r in range(h):
        for col in range(w):
            for ch in range(c):
                out[(r * w + col) * c + ch] = x[r, col, ch]
    return out


def dense(x, kernel, bias):
    """y_o = b_o + Σ_i x_i · W[i, o]."""
    n_in, n_out = kernel.shape
    return np.array([float(bias[o]) + sum(float(x[i]) * float(kernel[i, o]) for i in range(n_in))
                     for o in range(n_out)])


def relu(x):
    return np.vectorize(lambda v: v if v > 0 else 0.0)(np.asarray(x, np.float64))


def softmax(z):
    """exp(z_i) / Σ_j exp(z_j), in float64 with the usual max shift."""
    z = [float(v) for v in z]
    m = max(z)
    e = [math.exp(v - m) for v in z]
    s = sum(e)
    return np.array([v / s for v in e])


# --- backward: d loss / d input and d loss / d weights, one term at a time, from the chain rule -----------

def conv2d_backward(x, kernel, gy, strides=(1, 1), padding="valid"):
    """(dx, dkernel, dbias) for y = conv2d(x, kernel, b): every y[i, j, o] = … + x[r, col, c]·K[di, dj, c, o]
    adds gy[i, j, o]·K[di, dj, c, o] to dx[r, col, c] and gy[i, j, o]·x[r, col, c] to dK[di, dj, c, o]."""
    x, kernel, gy = (np.asarray(a, np.float64) for a in (x, kernel, gy))
    h, w, c = x.shape
    kh, kw, _, f = kernel.shape
    sh, sw = strides
    top, left = pad_before(h, kh, sh, padding), pad_before(w, kw, sw, padding)
    dx, dk = np.zeros_like(x), np.zeros_like(kernel)
    for i in range(gy.shape[0]):
        for j in range(gy.shape[1]):
            for o in range(f):
                for di in range(kh):
                    for dj in range(kw):
                        r, col = i * sh + di - top, j * sw + dj - left
                        if 0 <= r < h and 0 <= col < w:
                            for ch in range(c):
                                dx[r, col, ch] += gy[i, j, o] * kernel[di, dj, ch, o]
                                dk[di, dj, ch, o] += gy[i, j, o] * x[r, col, ch]
    return dx, dk, gy.sum(axis=(0, 1))


def maxpool2d_backward(x, gy, pool=(2, 2), strides=None, padding="valid"):
    """dx: each window's gradient goes to the first position (row by row, then column) holding its max."""
    x, gy = np.asarray(x, np.float64), np.asarray(gy, np.float64)
    h, w, c = x.shape
    ph, pw = pool
    sh, sw = strides or pool
    top, left = pad_before(h, ph, sh, padding), pad_before(w, pw, sw, padding)
    dx = np.zeros_like(x)
    for i in range(gy.shape[0]):
        for j in range(gy.shape[1]):
            for ch in range(c):
                best, where = -math.inf, None
                for di in range(ph):
                    for dj in range(pw):
                        r, col = i * sh + di - top, j * sw + dj - left
                        if 0 <= r < h and 0 <= col < w and (where is None or x[r, col, ch] > best):
                            best, where = x[r, col, ch], (r, col)
                dx[where[0], where[1], ch] += gy[i, j, ch]
    return dx


def dense_backward(x, kernel, gy):
    """(dx, dkernel, dbias) for y_o = b_o + Σ_i x_i·W[i, o]."""
    n_in, n_out = kernel.shape
    dx = np.array([sum(float(gy[o]) * float(kernel[i, o]) for o in range(n_out)) for i in range(n_in)])
    dk = np.array([[float(x[i]) * float(gy[o]) for o in range(n_out)] for i in range(n_in)])
    return dx, dk, np.asarray(gy, np.float64)


def relu_backward(x, gy):
    return np.where(np.asarray(x) > 0, np.asarray(gy, np.float64), 0.0)


def softmax_backward(z, gy):
    """dz_i = Σ_j gy_j · ∂p_j/∂z_i with ∂p_j/∂z_i = p_j (δ_ij − p_i)."""
    p = softmax(z)
    return np.array([sum(float(gy[j]) * p[j] * ((i == j) - p[i]) for j in range(len(p))) for i in range(len(p))])
