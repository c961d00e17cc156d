"""The model summary: every layer with its kind, settings, output shape and parameter count."""
from __future__ import annotations

from ..render.svg import esc
from .base import View, table


def _settings(layer) -> str:
    cfg = layer.config()
    if layer.kind == "conv2d":
        k, s = cfg["kernel_size"], cfg["strides"]
        return f"{cfg['filters']} filters, {k[0]}×{k[1]} kernel, stride {s[0]}×{s[1]}, {cfg['padding']} padding"
    if layer.kind == "maxpool2d":
        p, s = cfg["pool_size"], cfg["strides"]
        return f"{p[0]}×{p[1]} window, stride {s[0]}×{s[1]}, {cfg['padding']} padding"
    if layer.kind == "dense":
        return f"{cfg['units']} units"
    return ""


class Summary(View):
    """`summary(model)`: layers, shapes and parameters. `.rows` holds the table as plain values."""

    def __init__(self, model):
        super().__init__(model)
        self.title = f"{model.name}: input {tuple(model.input_shape)}, {model.num_classes} classes"

    @property
    def rows(self) -> list[dict]:
        """One dict per layer: name, kind, settings, output_shape, params, unit, module."""
        model = self.data
        out = []
        for inf, layer in zip(model.layer_infos, model.layers):
            out.append({"name": inf.name, "kind": inf.kind, "settings": _settings(layer),
                        "output_shape": tuple(inf.output_shape), "params": int(inf.param_count),
                        "unit": inf.unit, "module": inf.module})
        return out

    def note(self) -> str:
        return f"{len(self.data.layers)} layers, {self.data.param_count:,} parameters in total."

    def body(self) -> str:
        model = self.data
        rows = [["input", "", "", esc(tuple(model.input_shape)), "0", "", ""]]
        for r in self.rows:
            rows.append([f"<code>{esc(r['name'])}</code>", esc(r["kind"]), esc(r["settings"]),
                         esc(r["output_shape"]), f"{r['params']:,}",
                         "" if r["unit"] is None else str(r["unit"]), "" if r["module"] is None else str(r["module"])])
        rows.append(["<b>total</b>", "", "", "", f"<b>{model.param_count:,}</b>", "", ""])
        classes = ", ".join(model.class_names)
        return (table(["layer", "kind", "settings", "output shape", "parameters", "unit", "module"], rows,
                      "lllrrcc", name="summary")
                + f'<p style="font-size:12px;color:#495057;margin:6px 0 0">Classes: {esc(classes)}</p>')
