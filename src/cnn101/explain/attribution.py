"""Attribution maps: which input pixels (or regions) a class's score depends on, as plain data.

Each method differentiates the class's score S — its logit by default (`score="logit"`, as the papers
do), or its log-probability (`score="log_prob"`, = −loss, so the maps are −(the engine's d loss / d x))
— with the engine's exact backward pass, and returns an `Attribution`: a map at the input's size, a
colour range for it, and the per-layer arrays the views need.

    a = vanilla_gradient(model, x)            # |dS/dx|, max over colour channels (Simonyan et al. 2014)
    a = gradient_x_input(model, x, "koala")   # Σ_c x · dS/dx (signed)
    a = smoothgrad(model, x, n=16, seed=0)    # dS/dx averaged over n noisy copies (Smilkov et al. 2017)
    a = grad_cam(model, x)                    # ReLU(Σ_k α_k A_k), α_k = mean dS/dA_k (Selvaraju et al. 2017)
    a.map, a.range, a.data["gradient"], a.target, a.class_name

The target defaults to the predicted class. Occlusion (no gradient) is `explain.occlusion`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..engine.gradients import backward_from, target_indices
from ..engine.layers import Conv2D, ReLU, softmax
from ..engine.model import Trace

SCORES = ("logit", "log_prob")
TUTORIAL = "tutorial-attribution"  # the tutorial section that explains these methods (and FGSM)
TUTORIALS = {  # each method's subsection of it
    "gradient": "tutorial-attribution-gradient", "gradient_x_input": "tutorial-attribution-gradient-x-input",
    "smoothgrad": "tutorial-attribution-smoothgrad", "gradcam": "tutorial-attribution-gradcam",
    "occlusion": "tutorial-attribution-occlusion",
}
FRAGILE_TUTORIAL = "tutorial-fragile"  # 'How fragile is it?' (FGSM)
METHODS = ("gradient", "gradient_x_input", "smoothgrad", "gradcam")


@dataclass(frozen=True)
class Attribution:
    """One attribution map for one image and one class."""

    method: str  # one of METHODS
    target: int
    class_name: str
    score: str  # 'logit' or 'log_prob': what was differentiated
    map: np.ndarray  # (H, W) float32 at the input's size
    signed: bool  # True: diverging colours around 0; False: 0 … max
    data: dict = field(default_factory=dict)  # the per-layer arrays behind the map (see each function)

    @property
    def range(self) -> tuple[float, float]:
        """The colour range of the map: (−m, m) if signed, else (0, m); m = max |map| (1 if the map is all 0)."""
        m = float(np.max(np.abs(self.map))) if self.map.size else 0.0
        m = m if m > 0 else 1.0
        return (-m, m) if self.signed else (0.0, m)

    def normalized(self) -> np.ndarray:
        """The map scaled into [0, 1] by its range (signed maps: 0.5 is zero)."""
        lo, hi = self.range
        return ((self.map - lo) / (hi - lo)).astype(np.float32)


def _trace(model, x) -> Trace:
    trace = x if isinstance(x, Trace) else model.trace(x)
    if trace.batched:
        raise ValueError("Attribution explains one image; pass an H×W×C image or its trace, not a batch.")
    return trace


def _target(model, trace, target) -> int:
    return int(trace.predicted) if target is None else int(target_indices(model, target, 1)[0])


def score_gradient_at_logits(model, logits: np.ndarray, target: int, score: str = "logit") -> np.ndarray:
    """dS/d logits for a batch of logits (n × classes): one-hot for the logit, y − p for the log-probability."""
    if score not in SCORES:
        raise ValueError(f"Unknown score {score!r}; choose one of {', '.join(SCORES)}.")
    logits = np.asarray(logits, np.float64)
    y = np.zeros_like(logits)
    y[:, target] = 1.0
    return (y if score == "logit" else y - softmax(logits)).astype(np.float32)


def class_gradients(model, x, target=None, score: str = "logit") -> tuple[Trace, int, dict]:
    """(trace, target, dS/d every layer's output and the input) for one image — the Overview's gradient maps
    use the loss instead (`model.backward`); these are what attribution differentiates."""
    trace = _trace(model, x)
    t = _target(model, trace, target)
    g_logits = score_gradient_at_logits(model, trace.logits[None], t, score)
    arrays, _ = backward_from(model, trace, g_logits)
    return trace, t, {k: v[0] for k, v in arrays.items()}


def vanilla_gradient(model, x, target=None, score: str = "logit") -> Attribution:
    """map = max over channels of |dS/dx|. data: 'gradient' (H, W, C), 'layers' (dS/d each layer's output)."""
    trace, t, g = class_gradients(model, x, target, score)
    grad = g["input"]
    return Attribution("gradient", t, model.class_names[t], score, np.abs(grad).max(axis=-1).astype(np.float32),
                       False, {"gradient": grad, "layers": g})


def gradient_x_input(model, x, target=None, score: str = "logit") -> Attribution:
    """map = Σ over channels of x · dS/dx (signed: red pushes the class up). data: 'gradient', 'input', 'product'."""
    trace, t, g = class_gradients(model, x, target, score)
    product = (trace.input * g["input"]).astype(np.float32)
    return Attribution("gradient_x_input", t, model.class_names[t], score, product.sum(axis=-1).astype(np.float32),
                       True, {"gradient": g["input"], "input": trace.input, "product": product, "layers": g})


def smoothgrad(model, x, target=None, n: int = 16, sigma: float = 0.15, seed: int = 0,
               score: str = "logit") -> Attribution:
    """dS/dx averaged over n copies of the image plus Gaussian noise (σ = sigma × the image's value range),
    drawn from `seed`; map = max over channels of |mean gradient|. The target (default: the clean image's
    prediction) is the same for every copy. data: 'mean_gradient', 'noise_std', 'n', 'seed', 'noisy_predictions'."""
    if int(n) < 1:
        raise ValueError("SmoothGrad needs at least one noisy copy (n ≥ 1).")
    trace = _trace(model, x)
    t = _target(model, trace, target)
    x0 = trace.input
    spread = float(x0.max() - x0.min()) or 1.0
    std = float(sigma) * spread
    rng = np.random.default_rng(seed)
    noisy = (x0[None] + rng.normal(0.0, std, (int(n), *x0.shape))).astype(np.float32)
    batch = model.trace(noisy)
    arrays, _ = backward_from(model, batch, score_gradient_at_logits(model, batch.logits, t, score))
    mean = arrays["input"].mean(axis=0, dtype=np.float64).astype(np.float32)
    return Attribution("smoothgrad", t, model.class_names[t], score, np.abs(mean).max(axis=-1).astype(np.float32),
                       False, {"mean_gradient": mean, "noise_std": std, "n": int(n), "seed": int(seed),
                               "noisy_predictions": batch.predicted})


def last_conv_layer(model) -> str:
    """The default Grad-CAM layer: the last Conv2D — its ReLU's output when a ReLU follows it directly."""
    names = [layer.name for layer in model.layers]
    convs = [i for i, layer in enumerate(model.layers) if isinstance(layer, Conv2D)]
    if not convs:
        raise ValueError(f"Model {model.name!r} has no convolution layer for Grad-CAM.")
    i = convs[-1]
    if i + 1 < len(names) and isinstance(model.layers[i + 1], ReLU):
        return names[i + 1]
    return names[i]


def resize_bilinear(a: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(h, w) → size, bilinear with pixel centres aligned (each cell covers an equal share of the output)."""
    a = np.asarray(a, np.float64)

    def axis_weights(n_in, n_out):
        s = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
        lo = np.floor(s).astype(int)
        hi = np.minimum(lo + 1, n_in - 1)
        return lo, hi, s - lo

    r0, r1, fr = axis_weights(a.shape[0], size[0])
    c0, c1, fc = axis_weights(a.shape[1], size[1])
    rows = a[r0] * (1 - fr)[:, None] + a[r1] * fr[:, None]
    return (rows[:, c0] * (1 - fc) + rows[:, c1] * fc).astype(np.float32)


def grad_cam(model, x, target=None, layer: str | None = None, score: str = "logit") -> Attribution:
    """Grad-CAM at any layer with an H×W×C output (default: `last_conv_layer`): α_k = the mean of dS/dA_k over
    positions, coarse map = ReLU(Σ_k α_k A_k), resized bilinearly to the input. data: 'layer', 'activations'
    (h, w, K), 'gradients' (h, w, K), 'weights' α (K,), 'weighted' (Σ before the ReLU), 'coarse' (h, w)."""
    name = layer or last_conv_layer(model)
    if name not in model.shapes or name == "input" or len(model.shapes[name]) != 3:
        raise ValueError(f"Grad-CAM needs a layer with an H×W×C output; {name!r} is not one "
                         f"(try {last_conv_layer(model)!r}).")
    trace, t, g = class_gradients(model, x, target, score)
    acts, grads = trace[name], g[name]
    alpha = grads.mean(axis=(0, 1), dtype=np.float64)
    weighted = (acts.astype(np.float64) * alpha).sum(axis=-1)
    coarse = np.maximum(weighted, 0.0).astype(np.float32)
    return Attribution("gradcam", t, model.class_names[t], score, resize_bilinear(coarse, model.input_shape[:2]), False,
                       {"layer": name, "activations": acts, "gradients": grads, "weights": alpha.astype(np.float32),
                        "weighted": weighted.astype(np.float32), "coarse": coarse})


def attribution(model, x, method: str = "gradient", target=None, **options) -> Attribution:
    """One of METHODS by name (options go to its function)."""
    funcs = {"gradient": vanilla_gradient, "gradient_x_input": gradient_x_input, "smoothgrad": smoothgrad,
             "gradcam": grad_cam}
    if method not in funcs:
        raise ValueError(f"Unknown attribution method {method!r}; choose one of {', '.join(METHODS)}.")
    return funcs[method](model, x, target, **options)


__all__ = ["Attribution", "METHODS", "SCORES", "attribution", "class_gradients", "grad_cam", "gradient_x_input",
           "last_conv_layer", "resize_bilinear", "score_gradient_at_logits", "smoothgrad", "vanilla_gradient"]
