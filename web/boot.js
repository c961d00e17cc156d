// The tiny boot shim: register the service worker and show a quiet progress line while Python starts.
// Everything else is Python (app/main.py), run by PyScript, except cnn101PaintMany and cnn101PaintColumns below (hot loops that
// would otherwise cross the Python ↔ JavaScript border six times per canvas).
"use strict";
(() => {
  // The service worker precaches the whole site (≈ 20 MB): register it once the page is up, so that its
  // downloads do not compete with the runtime's on a first visit (later visits are served by it anyway).
  const register = () => {
    if ("serviceWorker" in navigator && location.protocol !== "file:") {
      navigator.serviceWorker.register("./sw.js").catch(() => {});
    }
  };
  if (navigator.serviceWorker && navigator.serviceWorker.controller) register();  // already installed: update check
  else addEventListener("cnn101:ready", register, { once: true });
  const t0 = performance.now();
  let bytes = 0, stage = "Starting Python in your browser";
  const show = () => {
    const el = document.getElementById("status");
    if (!el || document.documentElement.dataset.ready) return;
    const mb = bytes > 0 ? ` — ${(bytes / 1e6).toFixed(1)} MB loaded` : "";
    el.textContent = `${stage}…${mb} (${((performance.now() - t0) / 1000).toFixed(1)} s)`;
  };
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) bytes += e.encodedBodySize || e.transferSize || 0;
      show();
    }).observe({ type: "resource", buffered: true });
  } catch (e) { /* old browser: no byte count */ }
  // PyScript's own progress steps, in plain words
  const STAGES = { "Loading Pyodide": "Starting Python in your browser", "Loaded Pyodide": "Loading the engine" };
  addEventListener("py:progress", (e) => { if (STAGES[e.detail]) { stage = STAGES[e.detail]; show(); } });
  const timer = setInterval(() => {
    if (document.documentElement.dataset.ready) clearInterval(timer); else show();
  }, 250);
})();

// --- a repeat visit that never becomes ready is stuck, not slow: start again once, without the snapshot ------
// When this browser already holds the site (a service worker controls the page), every file comes from its
// caches and the start takes ≈ 1–3 s (≈ 10 s on a busy two-core machine). A few times in CI a repeat-visit
// start never finished ("Starting Python…" for 120 s, every file arrived, timers running, no error), once
// before PyScript had even run web/pyodide-start.mjs. Rather than leave a learner with a page that never
// starts: after WATCHDOG_MS, note how far the start got and reload once; that start skips the Pyodide
// snapshot (pyodide-start.mjs reads data-start-restarted) and the page says why it restarted. One automatic
// reload per tab until a start finishes, so it can never loop. It lives here, in a classic script that runs
// before any module, so that it also covers a start that stops before our own start module runs.
(() => {
  const WATCHDOG_MS = globalThis.cnn101StartWatchdogMs || 30_000;  // (the tests shorten it)
  const RESTARTED = "cnn101-start-restarted";  // sessionStorage: how far the stuck start got
  const root = document.documentElement;
  let before = null;
  try { before = sessionStorage.getItem(RESTARTED); } catch (e) { /* no session storage */ }
  if (before) {
    root.dataset.startRestarted = before;
    console.warn(`cnn101: the last start of this page did not finish (${before}); started again without the snapshot.`);
    addEventListener("cnn101:ready", () => { try { sessionStorage.removeItem(RESTARTED); } catch (e) { /* gone */ } },
      { once: true });
    return;  // this start is the one retry
  }
  if (!(navigator.serviceWorker && navigator.serviceWorker.controller)) return;  // a first visit: the network sets the pace
  const timer = setTimeout(() => {
    if (root.dataset.ready) return;
    const marks = performance.getEntriesByType("mark").map((m) => m.name.replace(/^cnn101:/, "")).join(", ");
    const where = `stuck after ${(WATCHDOG_MS / 1000).toFixed(0)} s at: ${marks || "the very beginning"}`;
    try { sessionStorage.setItem(RESTARTED, where); } catch (e) { return; }  // no way to stop a loop: no reload
    location.reload();
  }, WATCHDOG_MS);
  addEventListener("cnn101:ready", () => clearTimeout(timer), { once: true });
})();

// Paint neuron k of one column's (n, h, w, 4) RGBA bytes on canvases[k] (web/app/dom.py paint_many): one
// call from Python per column instead of several per canvas (the webcam's live frames repaint ~100 canvases).
window.cnn101PaintMany = (canvases, data, w, h) => {
  const size = w * h * 4;
  for (let k = 0; k < canvases.length; k++) {
    const part = new Uint8ClampedArray(data.buffer, data.byteOffset + k * size, size);
    canvases[k].getContext("2d").putImageData(new ImageData(part, w, h), 0, 0);
  }
};

// The Overview's repaint (web/app/overview_view.py via dom.paint_columns): every column's maps from one buffer,
// `dims` = (neurons, width, height) per column, `canvases` = all their canvases in that order.
window.cnn101PaintColumns = (canvases, data, dims) => {
  let k = 0, at = data.byteOffset;
  for (let c = 0; c < dims.length; c += 3) {
    const n = dims[c], w = dims[c + 1], h = dims[c + 2], size = w * h * 4;
    for (let i = 0; i < n; i++, k++, at += size) {
      canvases[k].getContext("2d").putImageData(new ImageData(new Uint8ClampedArray(data.buffer, at, size), w, h), 0, 0);
    }
  }
};
