// PyScript's "interpreter" module: Pyodide 0.27.7 (./pyodide/), started from a memory snapshot of its
// freshly initialised interpreter when this browser has made one, else started as usual.
//
// Starting CPython inside Pyodide (importing its start-up modules) takes ≈ 0.8 s of the ≈ 1 s that
// loadPyodide needs on a warm visit; restoring a snapshot of the memory it leaves takes ≈ 0.15 s. The
// snapshot is made once per browser, in a worker after the page is ready (nothing on the network: it is
// made here, from the files already cached), and kept in Cache Storage. It holds Pyodide and the standard
// library modules the page imported — no packages (their WebAssembly modules cannot be restored from
// memory), none of our code — so it hardly changes with our builds; a page that imports a standard module
// the snapshot lacks has it remade, and Pyodide itself refuses a snapshot of another Pyodide build.
import * as pyodide from "./pyodide/pyodide.mjs";

export const version = pyodide.version;

const INDEX_URL = new URL("./pyodide/", import.meta.url).href;
const CACHE = "cnn101-pyodide-snapshot";
const KEY = new URL(`./pyodide/snapshot-${pyodide.version}.bin`, import.meta.url).href;
const mark = (name) => { try { performance.mark(`cnn101:${name}`); } catch (e) { /* no marks: no matter */ } };

// Pyodide does not check a snapshot before it sizes memory by it (a damaged one leaves loadPyodide
// hanging), so look first: the length recorded when it was stored, and a header (its length at byte 4)
// followed by whole 64 KiB pages of memory.
function looksWhole(bytes, recordedLength) {
  if (bytes.length < 64 || bytes.length !== recordedLength) return false;
  const header = new DataView(bytes.buffer, bytes.byteOffset, 8).getUint32(4, true);
  const memory = bytes.length - header;
  return header >= 16 && memory > 0 && memory % 65536 === 0;
}

async function readSnapshot() {
  try {
    if (!globalThis.caches) return null;  // file:// or an insecure origin: no Cache Storage
    const response = await (await caches.open(CACHE)).match(KEY);
    if (!response) return null;
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (looksWhole(bytes, Number(response.headers.get("X-Snapshot-Length")))) return bytes;
    console.warn("cnn101: the stored Pyodide snapshot is damaged; starting as usual and making a new one.");
    await dropSnapshot();
  } catch (e) { /* no snapshot: start as usual */ }
  return null;
}

async function dropSnapshot() {
  try { await (await caches.open(CACHE)).delete(KEY); } catch (e) { /* nothing to drop */ }
}

// Python's own modules that the page has imported and the snapshot lacks (all of them when started without
// one): the worker imports them before taking the snapshot, so that later starts skip their import too.
// Only the standard library's: packages (NumPy, our wheel) live in site-packages and cannot be restored.
const MISSING_STDLIB = `
import sys
_have = getattr(sys.modules.get("_cnn101_snapshot"), "modules", ())
_skip = ("pyodide", "_pyodide", "js", "pyscript", "micropip", "_cnn101_snapshot", "__main__")
[n for n, m in list(sys.modules.items())
 if n not in _have and n.split(".")[0] not in _skip and "site-packages" not in (getattr(m, "__file__", None) or "")
 and not (getattr(m, "__file__", None) or "").startswith("/home")]
`;

// Made in a worker (its own Pyodide, ≈ 1 s of a spare core), once the page is ready and idle.
function makeSnapshotLater(py) {
  if (!globalThis.caches || !globalThis.Worker) return;
  const start = () => {
    let modules = [];
    try {
      const list = py.runPython(MISSING_STDLIB);
      modules = list.toJs();
      list.destroy();
    } catch (e) { /* a snapshot of Pyodide alone still saves most of the time */ }
    if (document.documentElement.dataset.pyodideSnapshot === "used" && modules.length === 0) return;  // up to date
    try {
      const worker = new Worker(new URL("./pyodide-snapshot-worker.mjs", import.meta.url), { type: "module" });
      worker.onmessage = (event) => {
        worker.terminate();
        document.documentElement.dataset.pyodideSnapshot = event.data.ok ? "made" : "failed";
        if (!event.data.ok) console.warn("cnn101: no Pyodide snapshot:", event.data.error);
      };
      worker.onerror = () => { worker.terminate(); document.documentElement.dataset.pyodideSnapshot = "failed"; };
      worker.postMessage({ indexURL: INDEX_URL, cache: CACHE, key: KEY, modules });
    } catch (e) { /* no module workers: start as usual next time too */ }
  };
  const idle = () => (globalThis.requestIdleCallback ? requestIdleCallback(start, { timeout: 5000 }) : setTimeout(start, 1000));
  if (document.documentElement.dataset.ready) idle();
  else addEventListener("cnn101:ready", idle, { once: true });
}

export async function loadPyodide(options = {}) {
  const config = { ...options, indexURL: INDEX_URL };  // PyScript would derive it from this file's folder
  const snapshot = await readSnapshot();
  if (snapshot) {
    try {
      const py = await pyodide.loadPyodide({ ...config, _loadSnapshot: snapshot });
      // the snapshot fixed the state of `random` (if imported) when it was taken: draw a fresh seed
      py.runPython("import sys\nif 'random' in sys.modules: sys.modules['random'].seed()");
      mark("pyodide-from-snapshot");
      document.documentElement.dataset.pyodideSnapshot = "used";
      makeSnapshotLater(py);  // only if this page imported standard modules the snapshot lacks
      return py;
    } catch (e) {
      console.warn("cnn101: the Pyodide snapshot could not be used; starting as usual and making a new one.", e);
      await dropSnapshot();
    }
  }
  const py = await pyodide.loadPyodide(config);
  mark("pyodide-started");
  makeSnapshotLater(py);
  return py;
}
