"""Helpers of the web tests (not fixtures: those are in conftest.py): read the page's state, compare it
with the CPython engine, wait for it, choose model files, make image files.

    st = state(page)                       # App.snapshot() of the page, as a dict
    assert_matches_engine(st, model, x)    # every column equals the CPython trace of x (≤ 1e-5)
"""
from __future__ import annotations

import base64
import json

import numpy as np

import browser as _b
from cnn101.explain.overview import overview

READY = 120_000  # ms: a cold Pyodide start on a busy 2-core machine


def state(page) -> dict:
    return json.loads(page.evaluate("cnn101_state()"))


def columns(st: dict) -> dict[str, np.ndarray]:
    return {c["name"]: np.frombuffer(base64.b64decode(c["values"]), "<f4").reshape(c["values_shape"])
            for c in st["columns"]}


def page_input(st: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(st["input"]), "<f4").reshape(st["model"]["input_shape"])


def open_app(page, url: str) -> None:
    page.goto(url)
    try:
        page.wait_for_function("document.documentElement.dataset.ready", timeout=READY)
    except Exception as e:
        raise AssertionError(_b.not_ready_report(page, url, "not-ready-app")) from e
    _b.note_restart(page)
    assert page.evaluate("document.documentElement.dataset.ready") == "1", page.text_content("#status")


def wait_paints(page, before: int) -> None:
    page.wait_for_function(f"window.cnn101_state && JSON.parse(cnn101_state()).paints > {before}", timeout=30_000)


def examples(site) -> list[dict]:
    return json.loads((site / "examples" / "index.json").read_text())["examples"]


def assert_matches_engine(st: dict, model, x: np.ndarray) -> None:
    """The page's input equals x, and every column's values equal the CPython trace of x (≤ 1e-5)."""
    np.testing.assert_allclose(page_input(st), x, rtol=0, atol=1e-6)
    ov = overview(model, model.trace(x))
    got = columns(st)
    assert list(got) == [c.name for c in ov.columns]
    for col in ov.columns:
        np.testing.assert_allclose(got[col.name], ov.values(col.index), rtol=0, atol=1e-5, err_msg=col.name)
    np.testing.assert_allclose(st["probs"], ov.values(ov.columns[-1].index), rtol=0, atol=1e-5)


def check_offline(context) -> None:
    _b.check_offline(context)


def make_image(tmp_path, name: str, size=None, fmt=None, source=None, mode=None, orientation=None, **save):
    """An image file made with Pillow from a dataset example (or a gradient if none)."""
    from PIL import Image

    img = Image.open(source).convert("RGB") if source else Image.fromarray(
        np.linspace(0, 255, 64 * 64 * 3).reshape(64, 64, 3).astype(np.uint8))
    if size:
        img = img.resize(size, Image.Resampling.BICUBIC)
    if mode == "RGBA":  # a transparent left half: composited on white
        a = np.full(img.size[::-1], 255, np.uint8)
        a[:, : img.size[0] // 2] = 60
        img = img.convert("RGBA")
        img.putalpha(Image.fromarray(a))
    elif mode:
        img = img.convert(mode)
    if orientation:
        exif = Image.Exif()
        exif[0x0112] = orientation
        save["exif"] = exif.tobytes()
    path = tmp_path / name
    img.save(path, fmt, **save)
    return path


def choose(page, paths) -> dict:
    before = state(page)["model_attempts"]
    page.set_input_files("#model-files", [str(p) for p in paths])
    page.wait_for_function(f"JSON.parse(cnn101_state()).model_attempts > {before}", timeout=READY)
    return state(page)


def shown_example(site, st) -> tuple[dict, object]:
    ex = {e["id"]: e for e in examples(site)}[st["image"]]
    return ex, site / "examples" / ex["file"]


# Every visible element of `root` that lies outside the window horizontally (and is not inside a horizontally
# scrolling container), or outside a clipping ancestor (overflow hidden), with a short description of it.
OUTSIDE = """(root) => {
  const vw = document.documentElement.clientWidth, bad = [];
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                      (e.classList.length ? '.' + [...e.classList].join('.') : '');
  const scrolls = (e) => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX);
  const clips = (e) => { const s = getComputedStyle(e);
                         return ['hidden', 'clip'].includes(s.overflowX) || ['hidden', 'clip'].includes(s.overflowY); };
  for (const el of [root, ...root.querySelectorAll('*')]) {
    if (el.closest('svg') && el.tagName.toLowerCase() !== 'svg') continue;  // an svg is checked as a whole
    if (el.closest('[hidden]')) continue;
    let faded = false;  // collapsed and transparent (e.g. the flatten view's logits before 'softmax →')
    for (let a = el; a && !faded; a = a.parentElement) faded = getComputedStyle(a).opacity === '0';
    if (faded) continue;
    const s = getComputedStyle(el);
    if (s.display === 'none' || s.visibility === 'hidden') continue;
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) continue;
    let scroller = null;
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (scrolls(a)) { scroller = a; break; }
      if (clips(a)) {
        const b = a.getBoundingClientRect();
        if (r.left < b.left - 1 || r.right > b.right + 1 || r.top < b.top - 1 || r.bottom > b.bottom + 1) {
          bad.push(name(el) + ' cut off by ' + name(a)); break; }
      }
    }
    if (!scroller && (r.left < -1 || r.right > vw + 1))
      bad.push(name(el) + ` at x ${r.left.toFixed(0)}…${r.right.toFixed(0)} (window ${vw})`);
  }
  return [...new Set(bad)].slice(0, 12);
}"""
