"""Six ways to compute a convolution's output, and the rule that picks one per layer shape and platform.

All take the zero-padded input `xp` (N, Hp, Wp, cin), the kernel (kh, kw, cin, cout), the bias and the stride,
and return y (N, oh, ow, cout) in float32 with y[i,j,f] = b[f] + Σ x[i·s+di, j·s+dj, c] · K[di,dj,c,f].
They differ in how many multiplications they do and how long NumPy's inner loops are, which is what costs
time in Pyodide, whose NumPy has no BLAS (its matmul is a plain loop per output value, ≈ 1.8 ns per output
plus 0.4 ns per multiply-add here; einsum's multiply-add along a long row ≈ 0.3 ns), while with CPython's
OpenBLAS few long products win (`channels_first`).
Measured per layer shape in notes/engine-speed.md (bench/bench_conv_methods.py); every method stays within
1e-6 of a float64 reference on Tiny VGG, far inside the 1e-5 held against TensorFlow.
"""
from __future__ import annotations

import sys

import numpy as np

#: Pyodide (the browser) runs NumPy without BLAS; CPython's NumPy has one.
NO_BLAS = sys.platform == "emscripten"

# OpenBLAS runs a matmul on several threads once m·n·k exceeds 4·65536. For these small products the threads
# gain nothing, and on a busy machine they wait for a core: a 0.8 ms trace took 8–30 ms at the 75th percentile.
# Below the threshold every product runs on one thread, so results also no longer depend on the thread count.
SINGLE_THREAD_MNK = 4 * 65536


def matmul_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b, in blocks of rows small enough for BLAS to keep on one thread."""
    step = max(1, SINGLE_THREAD_MNK // max(1, b.shape[0] * b.shape[1]))
    if a.shape[0] <= step:
        return a @ b
    out = np.empty((a.shape[0], b.shape[1]), np.result_type(a, b))
    for i in range(0, a.shape[0], step):
        np.matmul(a[i:i + step], b, out=out[i:i + step])
    return out


def taps(xp, kernel, bias, strides, oh, ow):
    """One matmul per kernel tap (di, dj) of the input shifted by the tap, accumulated: kh·kw products with
    cin-long sums. Temporaries are the size of the output. Fastest with BLAS (CPython)."""
    kh, kw, cin, cout = kernel.shape
    sh, sw = strides
    n = xp.shape[0]
    out = np.empty((n * oh * ow, cout), np.float32)
    out[...] = bias
    for di in range(kh):
        for dj in range(kw):
            window = xp[:, di:di + (oh - 1) * sh + 1:sh, dj:dj + (ow - 1) * sw + 1:sw].reshape(-1, cin)
            out += matmul_rows(window, kernel[di, dj])
    return out.reshape(n, oh, ow, cout)


#: channels_first stacks the kh·kw shifted copies of this many input columns at once (bounds its memory).
STACK_MAX_BYTES = 8 * 2**20


def _kernel_rows(kernel, bias):
    """(cout, kh·kw·cin + 1): each filter's weights in the stack's tap-major order, then its bias (the stack's
    last row is ones, so the product adds the bias itself: no separate pass over the output)."""
    kh, kw, cin, cout = kernel.shape
    k = kh * kw * cin
    kt = np.empty((cout, k + 1), np.float32)
    kt[:, :k] = kernel.reshape(k, cout).T
    kt[:, k] = bias
    return kt


def tap_runs(source: np.ndarray, kh: int, kw: int, wp: int, start: int = 0, sign: int = 1) -> np.ndarray:
    """A view (kh, kw, rows, run) of `source` (rows × positions on a padded grid Wp wide, float32): [di, dj, c, r]
    is source[c, start + sign·(di·Wp + dj) + r] — each kernel tap's shifted run of every row, from which the
    stacking methods (here and in conv_backward.py) copy one block of columns just before its BLAS product:
    the block is still in the cache when BLAS reads it (stacking every column first, then multiplying, was
    6–15 % slower per Tiny VGG layer, forward and backward). Made by the ndarray constructor (a third of
    as_strided's cost, which is pure Python), which checks the view's extent against `source`. Read it only."""
    rows, width = source.shape
    e = source.itemsize
    run = width - (kh - 1) * wp - (kw - 1)
    return np.ndarray((kh, kw, rows, run), np.float32, buffer=source, offset=start * e,
                      strides=(sign * wp * e, sign * e, source.strides[0], e))


def _channels_first_einsum(xp, kernel, bias, oh, ow):
    kh, kw, cin, cout = kernel.shape
    n, hp, wp, _ = xp.shape
    k = kh * kw * cin
    kt = _kernel_rows(kernel, bias)
    run = (oh - 1) * wp + ow  # up to the last output position
    cols = max(1, min(run, STACK_MAX_BYTES // (4 * (k + 1))))  # input columns stacked at once
    out = np.empty((n, oh, ow, cout), np.float32)
    full = np.empty((cout, oh * wp), np.float32)
    for b in range(n):
        xt = np.ascontiguousarray(xp[b].reshape(hp * wp, cin).T)  # (cin, Hp·Wp)
        for c0 in range(0, run, cols):
            c1 = min(run, c0 + cols)
            stack = np.empty((k + 1, c1 - c0), np.float32)
            taps = stack[:k].reshape(kh * kw, cin, c1 - c0)
            for di in range(kh):
                for dj in range(kw):
                    off = di * wp + dj
                    taps[di * kw + dj] = xt[:, off + c0:off + c1]
            stack[k] = 1
            # NumPy without BLAS: einsum's loop along the long axis beat matmul's dot per output value
            np.einsum("ok,kr->or", kt, stack, out=full[:, c0:c1])
        out[b] = full.reshape(cout, oh, wp)[:, :, :ow].transpose(1, 2, 0)
    return out


def _channels_first_blas(xp, kernel, bias, oh, ow):
    kh, kw, cin, cout = kernel.shape
    n, hp, wp, _ = xp.shape
    k = kh * kw * cin
    kt = _kernel_rows(kernel, bias)
    run = (oh - 1) * wp + ow  # up to the last output position
    # columns per BLAS product, each block stacked just before its product (tap_runs)
    step = max(256, SINGLE_THREAD_MNK // max(1, cout * (k + 1)))
    step = max(1, min(run, step, STACK_MAX_BYTES // (4 * (k + 1))))
    out = np.empty((n, oh, ow, cout), np.float32)
    full = np.empty((cout, oh * wp), np.float32)
    stack = np.empty((k + 1, step), np.float32)
    stack[k] = 1
    taps = stack[:k].reshape(kh, kw, cin, step)
    # One image at a time, each cut into the same blocks: an image gives bit for bit the same output wherever
    # it sits in a batch (BLAS may round a column differently by its place in a block; occlusion compares a
    # batch of patched images with the unpatched one and expects exact zeros where nothing changed).
    for b in range(n):
        xt = np.ascontiguousarray(xp[b].reshape(hp * wp, cin).T)  # (cin, Hp·Wp)
        under = tap_runs(xt, kh, kw, wp)  # [di, dj, c, r] = xt[c, di·Wp + dj + r]; its run is `run` at stride 1
        for i in range(0, run, step):
            j = min(run, i + step)
            np.copyto(taps[..., :j - i], under[..., i:j])
            np.matmul(kt, stack[:, :j - i], out=full[:, i:j])
        out[b] = full.reshape(cout, oh, wp)[:, :, :ow].transpose(1, 2, 0)
    return out


def channels_first(xp, kernel, bias, strides, oh, ow):
    """Stride 1, channels first on the padded grid: the input under tap (di, dj) of every output position is
    one contiguous run of the flattened (cin, N·Hp·Wp) input, starting at di·Wp + dj. The kh·kw runs are
    stacked (kh·kw·cin rows, plus a row of ones for the bias) and multiplied by the (cout × kh·kw·cin + 1)
    kernel, block of columns by block (each small enough for BLAS to keep on one thread, and stacked just
    before its product); outputs computed past the right edge (Wp − ow per row) are dropped. Image by image.
    With BLAS the long products run 23–35 % faster than `taps`' (positions × cin)·(cin × cout) ones."""
    return _channels_first_blas(xp, kernel, bias, oh, ow)


def channels_first_einsum(xp, kernel, bias, strides, oh, ow):
    """`channels_first` with the product done by `np.einsum` instead of matmul: for NumPy without BLAS
    (Pyodide), whose matmul is a dot product per output value reading the stack with a row stride, while
    einsum runs a multiply-add along each long contiguous row of the stack (measured 1.3–1.5× faster on
    Tiny VGG's layers, notes/engine-speed.md)."""
    return _channels_first_einsum(xp, kernel, bias, oh, ow)


def im2col(xp, kernel, bias, strides, oh, ow):
    """Every output position's whole window copied into one row (kh·kw·cin long), then one matmul: the
    fewest and longest NumPy loops, at the price of a kh·kw-times copy of the input."""
    kh, kw, cin, cout = kernel.shape
    sh, sw = strides
    n = xp.shape[0]
    cols = np.empty((n, oh, ow, kh, kw, cin), np.float32)
    for di in range(kh):
        for dj in range(kw):
            cols[:, :, :, di, dj] = xp[:, di:di + (oh - 1) * sh + 1:sh, dj:dj + (ow - 1) * sw + 1:sw]
    out = matmul_rows(cols.reshape(-1, kh * kw * cin), kernel.reshape(-1, cout))
    out += bias
    return out.reshape(n, oh, ow, cout)


def row_windows(xp, kernel, bias, strides, oh, ow):
    """One matmul per kernel row di, without copying: in a channels-last row, the kw·cin values under the
    kernel row at each output column are contiguous, so (N, oh, ow, kw·cin) is a strided view of the input
    itself (windows overlapping). kh products with kw·cin-long sums. BLAS cannot take overlapping rows, so
    this is for NumPy without BLAS (Pyodide), where it beat im2col (no copy) and `taps` (3× longer sums)."""
    kh, kw, cin, cout = kernel.shape
    sh, sw = strides
    xp = np.ascontiguousarray(xp)
    n, s = xp.shape[0], xp.strides
    out = None
    for di in range(kh):
        view = np.lib.stride_tricks.as_strided(xp[:, di:], shape=(n, oh, ow, kw * cin),
                                               strides=(s[0], s[1] * sh, s[2] * sw, s[3]), writeable=False)
        product = np.matmul(view, kernel[di].reshape(kw * cin, cout))
        if out is None:
            product += bias
            out = product
        else:
            out += product
    return out


# Winograd F(2×2, 3×3) (Lavin & Gray 2015): each 2×2 block of outputs from a 4×4 input tile d is
# Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A, 16 multiplications per channel pair instead of 36.
_G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], np.float32)


def winograd_kernel(kernel: np.ndarray) -> np.ndarray:
    """U = G g Gᵀ for every (cin, cout) pair of a 3×3 kernel: (4, 4, cin, cout) as (16, cin, cout)."""
    cin, cout = kernel.shape[2:]
    t = np.tensordot(_G, kernel.reshape(3, 3, cin * cout), axes=(1, 0))  # (4, 3, cin·cout)
    u = np.tensordot(t, _G, axes=(1, 1))  # (4, cin·cout, 4)
    return np.ascontiguousarray(u.transpose(0, 2, 1)).reshape(16, cin, cout)


def winograd_2x2(xp, kernel, bias, strides, oh, ow):
    """Winograd F(2×2, 3×3) for a 3×3 kernel with stride 1: 16 (tiles × cin) @ (cin × cout) products,
    0.44× the multiply-adds of `taps`. The input transform Bᵀ d B and the output transform Aᵀ m A are
    additions only; the input is first split into its even and odd columns so that every addition reads
    contiguous blocks."""
    n, hp, wp, cin = xp.shape
    cout = kernel.shape[3]
    th, tw = -(-oh // 2), -(-ow // 2)  # tiles down and across
    need_h, need_w = 2 * th + 2, 2 * tw + 2
    if need_h > hp or need_w > wp:  # an odd output size: the last tile reads zeros past the edge
        xp = np.pad(xp, ((0, 0), (0, max(0, need_h - hp)), (0, max(0, need_w - wp)), (0, 0)))
    even = np.ascontiguousarray(xp[:, :need_h, 0:need_w:2])
    odd = np.ascontiguousarray(xp[:, :need_h, 1:need_w:2])
    # Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]], along the columns, then along the rows
    c0, c1, c2, c3 = even[:, :, :tw], odd[:, :, :tw], even[:, :, 1:], odd[:, :, 1:]
    u = np.empty((4, n, need_h, tw, cin), np.float32)
    np.subtract(c0, c2, out=u[0])
    np.add(c1, c2, out=u[1])
    np.subtract(c2, c1, out=u[2])
    np.subtract(c1, c3, out=u[3])
    v = np.empty((4, 4, n, th, tw, cin), np.float32)
    r0, r1, r2, r3 = u[:, :, 0:2 * th:2], u[:, :, 1:2 * th + 1:2], u[:, :, 2::2], u[:, :, 3::2]
    np.subtract(r0, r2, out=v[0])
    np.add(r1, r2, out=v[1])
    np.subtract(r2, r1, out=v[2])
    np.subtract(r1, r3, out=v[3])
    m = np.matmul(v.reshape(16, -1, cin), winograd_kernel(kernel)).reshape(4, 4, n, th, tw, cout)
    m[1, 1] += bias  # Aᵀ's rows both take m[1, 1] with weight 1: the bias reaches every output once
    # Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]], along the rows, then along the columns into the interleaved output
    s = np.empty((2, 4, n, th, tw, cout), np.float32)
    np.add(m[0], m[1], out=s[0])
    s[0] += m[2]
    np.subtract(m[1], m[2], out=s[1])
    s[1] -= m[3]
    out = np.empty((n, th, 2, tw, 2, cout), np.float32)
    for r in range(2):
        left, right = out[:, :, r, :, 0], out[:, :, r, :, 1]
        np.add(s[r, 0], s[r, 1], out=left)
        left += s[r, 2]
        np.subtract(s[r, 1], s[r, 2], out=right)
        right -= s[r, 3]
    out = out.reshape(n, 2 * th, 2 * tw, cout)
    return out if (2 * th, 2 * tw) == (oh, ow) else np.ascontiguousarray(out[:, :oh, :ow])


METHODS = {"taps": taps, "channels_first": channels_first, "channels_first_einsum": channels_first_einsum,
           "im2col": im2col, "row_windows": row_windows, "winograd_2x2": winograd_2x2}
#: methods that compute stride 1 only
STRIDE_1_ONLY = ("channels_first", "channels_first_einsum", "winograd_2x2")


def choose(xp_shape, kernel_shape, strides, oh, ow, no_blas: bool = NO_BLAS) -> str:
    """The fastest method measured for this shape (notes/engine-speed.md). With BLAS (CPython):
    `channels_first` for stride 1, else `taps`. Without (Pyodide), stride 1: Winograd for 3×3 kernels on
    ≥ 32 input channels (1.4–1.5× `channels_first_einsum` at 32 and 64 channels; a tie at 16), else
    `channels_first_einsum` (fastest measured on every other shape: 3–16 channels in, 3×3 to 7×7 kernels);
    strided: `row_windows` while a kernel row holds ≤ 48 values (30 beat `taps`, 96 and 192 did not),
    else `taps`."""
    kh, kw, cin, _ = kernel_shape
    stride_1 = tuple(strides) == (1, 1)
    if not no_blas:
        return "channels_first" if stride_1 else "taps"
    if stride_1:
        if (kh, kw) == (3, 3) and cin >= 32 and oh * ow >= 64:
            return "winograd_2x2"
        return "channels_first_einsum"
    return "row_windows" if kw * cin <= 48 else "taps"
