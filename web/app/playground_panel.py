"""The hyperparameter playground on real data (issue 13), as a dialog over `cnn101.explain.playground`:
pick a real channel (an input channel or any activation map of the current image), kernel size, stride,
padding and a kernel (a preset, or the trained kernel a neuron of the next conv layer applies to that
channel); it shows the output-size formula with the numbers filled in, invalid settings in words, the
channel and its convolution; and the loaded model's per-layer table (`explain.layer_table`)."""
from __future__ import annotations

import base64
import html
import json

import numpy as np
from cnn101.explain import layer_table, playground
from cnn101.explain.playground import channel_of, trained_kernel
from cnn101.kernels import PRESETS
from cnn101.render import ACTIVATION, INPUT, heatmap
from cnn101.engine.layers import Conv2D
from pyscript import window

from . import dom

COLOURS = ("red", "green", "blue")


class PlaygroundPanel:
    def __init__(self, app):
        self.app = app
        self.p = None
        self.updates = 0

    def mount(self, after) -> None:
        after.insertAdjacentHTML("afterend", """
<button type="button" id="pg-open" aria-haspopup="dialog" aria-controls="playground">Kernel playground…</button>
<div id="playground" class="playground" role="dialog" aria-labelledby="pg-title" hidden>
  <div class="pg-head"><h2 id="pg-title">Kernel playground: kernel size, stride and padding on a real channel</h2>
    <button type="button" id="pg-close" aria-label="Close the playground">×</button></div>
  <div class="pg-controls">
    <label>channel <select id="pg-channel"></select></label>
    <label>kernel size <input id="pg-k" type="number" min="1" max="7" step="1" value="3"></label>
    <label>stride <input id="pg-s" type="number" min="0" max="4" step="1" value="1"></label>
    <label>padding <select id="pg-pad"><option value="valid">valid</option><option value="same">same</option>
      <option value="0">0</option><option value="1">1</option><option value="2">2</option><option value="3">3</option></select></label>
    <label>kernel <select id="pg-kernel"></select></label>
  </div>
  <p id="pg-formula" class="pg-formula" aria-live="polite"></p>
  <p id="pg-message" class="pg-message" role="status" aria-live="polite"></p>
  <div class="pg-maps"><figure><canvas id="pg-in" width="1" height="1"></canvas><figcaption id="pg-in-cap">channel</figcaption></figure>
    <figure><canvas id="pg-out" width="1" height="1"></canvas><figcaption id="pg-out-cap">output</figcaption></figure></div>
  <details class="pg-table"><summary>Every layer of the model: shape, parameters, multiply–adds, receptive field</summary>
    <div id="pg-layers"></div></details>
</div>""")
        dom.on(dom.el("pg-open"), "click", lambda e: self.open())
        dom.on(dom.el("pg-close"), "click", lambda e: self.close())
        dom.on(dom.el("playground"), "keydown", self._key)
        for name in ("pg-channel", "pg-pad", "pg-kernel"):
            dom.on(dom.el(name), "change", lambda e: self.update())
        dom.on(dom.el("pg-channel"), "change", lambda e: self._kernels())
        for name in ("pg-k", "pg-s"):
            dom.on(dom.el(name), "input", lambda e: self.update())
        window.cnn101_playground = dom.keep(self.snapshot)

    def _key(self, event) -> None:
        if str(event.key) == "Escape":
            event.stopPropagation()
            self.close()

    def open(self) -> None:
        model, trace = self.app.model, self.app.ov.trace
        opts = []
        for name in ["input"] + [l.name for l in model.layers]:
            a = np.asarray(trace[name])
            if a.ndim != 3:
                continue
            for c in range(a.shape[2]):
                label = f"input · {COLOURS[c]}" if name == "input" and a.shape[2] == 3 else f"{name} · {c}"
                opts.append(f'<option value="{html.escape(name)}|{c}">{html.escape(label)} ({a.shape[0]}×{a.shape[1]})</option>')
        dom.el("pg-channel").innerHTML = "".join(opts)
        dom.el("pg-layers").innerHTML = self._table()
        self._kernels()
        dom.show(dom.el("playground"), True)
        dom.el("pg-open").setAttribute("aria-expanded", "true")
        dom.el("pg-channel").focus()

    def close(self) -> None:
        dom.show(dom.el("playground"), False)
        dom.el("pg-open").setAttribute("aria-expanded", "false")
        dom.el("pg-open").focus()

    def _reader(self, name: str):
        """The conv layer that reads `name`'s output directly (its trained kernels fit this channel), or None."""
        names = ["input"] + [l.name for l in self.app.model.layers]
        i = names.index(name)
        if i < len(self.app.model.layers):
            nxt = self.app.model.layers[i]
            return nxt if isinstance(nxt, Conv2D) else None
        return None

    def _kernels(self) -> None:
        name, _ = str(dom.el("pg-channel").value).split("|")
        opts = [f'<option value="p|{html.escape(p)}">{html.escape(p)}</option>' for p in PRESETS]
        conv = self._reader(name)
        if conv is not None:
            opts += [f'<option value="t|{html.escape(conv.name)}|{n}">trained: {html.escape(conv.name)} neuron {n}</option>'
                     for n in range(conv.filters)]
        dom.el("pg-kernel").innerHTML = "".join(opts)
        self.update()

    def settings(self) -> dict:
        def whole(element_id):
            v = str(dom.el(element_id).value)
            try:
                return int(float(v))
            except ValueError:
                return v  # the playground explains what is wrong with it
        pad = str(dom.el("pg-pad").value)
        name, c = str(dom.el("pg-channel").value).split("|")
        return {"layer": name, "channel": int(c), "kernel_size": whole("pg-k"), "stride": whole("pg-s"),
                "padding": pad if pad in ("valid", "same") else int(pad), "kernel": str(dom.el("pg-kernel").value)}

    def update(self) -> None:
        s = self.settings()
        ch = channel_of(self.app.ov.trace, s["layer"], s["channel"])
        kind, *rest = s["kernel"].split("|")
        if kind == "t":
            kernel, k = trained_kernel(self.app.model, rest[0], int(rest[1]), s["channel"]), None
            dom.el("pg-k").value = str(kernel.shape[0])
            dom.el("pg-k").disabled = True
        else:
            kernel, k = rest[0], s["kernel_size"]
            dom.el("pg-k").disabled = False
        self.p = p = playground(ch, k, s["stride"], s["padding"], kernel)
        dom.el("pg-formula").textContent = f"output size ⌊(W − K + 2P) / S⌋ + 1: {p.formula}"
        dom.el("pg-message").textContent = p.message
        lo, hi = float(ch.min()), float(ch.max())
        cmap = INPUT if s["layer"] == "input" else ACTIVATION
        if cmap is ACTIVATION:
            m = max(abs(lo), abs(hi)) or 1.0
            lo, hi = -m, m
        dom.paint(dom.el("pg-in"), heatmap(ch, lo, hi if hi > lo else lo + 1, cmap))
        dom.el("pg-in-cap").textContent = f"{s['layer']} channel {s['channel']} ({ch.shape[0]}×{ch.shape[1]})"
        out = dom.el("pg-out")
        if p.valid and p.output is not None and p.output.size:
            m = float(np.abs(p.output).max()) or 1.0
            dom.paint(out, heatmap(p.output.astype(np.float32), -m, m, ACTIVATION))
            dom.show(out, True)
            dom.el("pg-out-cap").textContent = f"output {p.output.shape[0]}×{p.output.shape[1]}"
        else:
            dom.show(out, False)
            dom.el("pg-out-cap").textContent = "no output: see the message above"
        self.updates += 1

    def _table(self) -> str:
        rows = layer_table(self.app.model)

        def shape(t):
            return "×".join(str(d) for d in t)
        body = "".join(
            f"<tr><td>{html.escape(r.name)}</td><td>{html.escape(r.kind)}</td><td>{shape(r.output_shape)}</td>"
            f"<td>{r.params:,}</td><td>{r.macs:,}</td><td>{shape(r.receptive_field) if r.receptive_field else '—'}</td></tr>"
            for r in rows)
        return ('<table><thead><tr><th>layer</th><th>kind</th><th>output</th><th>parameters</th><th>multiply–adds</th>'
                f'<th>receptive field</th></tr></thead><tbody>{body}</tbody></table>')

    def snapshot(self) -> str:
        p = self.p
        d = {"updates": self.updates, "open": not dom.el("playground").hidden}
        if p is not None:
            d.update(settings=self.settings(), formula=str(dom.el("pg-formula").textContent),
                     message=p.message, valid=p.valid,
                     rows=int(dom.el("pg-layers").querySelectorAll("tbody tr").length))
            if p.valid and p.output is not None:
                d["shape"] = list(p.output.shape)
                d["output"] = base64.b64encode(np.ascontiguousarray(p.output, "<f8").tobytes()).decode("ascii")
        return json.dumps(d)
