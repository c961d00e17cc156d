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
// The app's own lock and standard library (buildsite/stored.py: the same files repacked uncompressed, so
// they travel brotli-compressed as a whole; the lock names the app's copies of the NumPy and Pillow wheels
// with their sha256). Without the meta (an older build, no brotli at build time): Pyodide's own files.
const RUNTIME = document.querySelector('meta[name="cnn101-pyodide"]');
const runtimeURL = (key) => (RUNTIME && RUNTIME.dataset[key] ? new URL(RUNTIME.dataset[key], document.baseURI).href : undefined);
const RUNTIME_FILES = Object.fromEntries(
  Object.entries({ lockFileURL: runtimeURL("lock"), stdLibURL: runtimeURL("stdlib") }).filter(([, v]) => v));
const CACHE = "cnn101-pyodide-snapshot";
// A snapshot holds the stdlib zip's directory as zipimport read it at start-up: it fits that zip only.
const STDLIB_ID = RUNTIME && RUNTIME.dataset.stdlibId ? `-${RUNTIME.dataset.stdlibId}` : "";
const KEY = new URL(`./pyodide/snapshot-${pyodide.version}${STDLIB_ID}.bin`, import.meta.url).href;
const mark = (name) => { try { performance.mark(`cnn101:${name}`); } catch (e) { /* no marks: no matter */ } };
mark("start-module");  // PyScript has run this module (web/boot.js's watchdog reports how far a start got)

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

// A start from the snapshot that never reached "ready" (it restored, then broke or hung) must not
// repeat on every visit: the flag is set before restoring and cleared once the page is ready.
const PENDING = "cnn101-pyodide-snapshot-pending";
// Snapshot making that keeps failing (storage quota, a browser without the API) is not retried forever.
const FAILURES = "cnn101-pyodide-snapshot-failures";
const MAX_FAILURES = 3;
const WORKER_TIMEOUT_MS = 90_000;
const store = {
  get: (k) => { try { return localStorage.getItem(k); } catch (e) { return null; } },
  set: (k, v) => { try { localStorage.setItem(k, v); } catch (e) { /* private mode: no memory */ } },
  drop: (k) => { try { localStorage.removeItem(k); } catch (e) { /* nothing kept */ } },
};
const flag = (name, value) => { document.documentElement.dataset[name] = value; };

// Standard-library modules that the page has imported and the snapshot lacks (all of them when started
// without one): the worker imports them before taking the snapshot, so that later starts skip their
// import too. Only the standard library's (sys.stdlib_module_names): packages (NumPy, our wheel) cannot be
// restored, and modules made by PyScript from JavaScript (polyscript, _pyscript) cannot be imported there.
const MISSING_STDLIB = `
def _missing():
    import sys
    have = getattr(sys.modules.get("_cnn101_snapshot"), "modules", ())
    return [n for n in list(sys.modules)
            if n not in have and n.split(".")[0] in sys.stdlib_module_names and n != "__main__"]
_missing()
`;

function missingModules(py) {
  const globals = py.toPy({});
  try {
    const list = py.runPython(MISSING_STDLIB, { globals });
    const names = list.toJs();
    list.destroy();
    return names;
  } finally {
    globals.destroy();
  }
}

// Made in a worker (its own Pyodide, ≈ 1 s of a spare core), once the page is ready and idle.
function makeSnapshotLater(py) {
  if (!globalThis.caches || !globalThis.Worker) return;
  const start = () => {
    let modules = [];
    try { modules = missingModules(py); } catch (e) { /* a snapshot of Pyodide alone still saves most */ }
    if (document.documentElement.dataset.pyodideSnapshot === "used") {
      flag("pyodideSnapshotCheck", modules.length ? `remaking: ${modules.join(" ")}` : "up to date");
      if (modules.length === 0) return;
    }
    if (Number(store.get(FAILURES) || 0) >= MAX_FAILURES) { flag("pyodideSnapshot", "given up"); return; }
    let worker;
    const finish = (ok, error) => {
      clearTimeout(timer);
      if (worker) worker.terminate();
      flag("pyodideSnapshot", ok ? "made" : "failed");
      if (ok) store.drop(FAILURES);
      else {
        store.set(FAILURES, String(Number(store.get(FAILURES) || 0) + 1));
        console.warn("cnn101: no Pyodide snapshot this time:", error);
      }
    };
    const timer = setTimeout(() => finish(false, "the worker did not answer"), WORKER_TIMEOUT_MS);
    try {
      worker = new Worker(new URL("./pyodide-snapshot-worker.mjs", import.meta.url), { type: "module" });
      worker.onmessage = (event) => finish(event.data.ok, event.data.error);
      worker.onerror = (event) => finish(false, event.message || "the worker failed");
      worker.postMessage({ indexURL: INDEX_URL, ...RUNTIME_FILES, cache: CACHE, key: KEY, modules });
    } catch (e) {
      finish(false, e);  // no module workers here
    }
  };
  const idle = () => (globalThis.requestIdleCallback ? requestIdleCallback(start, { timeout: 5000 }) : setTimeout(start, 1000));
  if (document.documentElement.dataset.ready) idle();
  else addEventListener("cnn101:ready", idle, { once: true });
}

// --- packages: loaded here, checked, with a plain message when one cannot be used ----------------------
// PyScript hands the config's packages to loadPyodide. Pyodide's loadPackage does not throw when a package
// fails (a wheel whose bytes do not match pyodide-lock.json's hash is refused, then only logged), and the
// page then waits for ever at "Loading the engine…". So: load them after start-up, check each arrived, and
// install our own wheel from bytes the browser checked against the integrity the build wrote into the page.
const APP_WHEEL = document.querySelector('meta[name="cnn101-app-wheel"]');

function refuse(message) {
  const status = document.getElementById("status");
  if (status) {
    status.textContent = message;
    status.classList.add("error");
  }
  document.documentElement.dataset.loadError = message;
  document.documentElement.dataset.ready = "error";
  return new Error(message);
}

// A stricter policy sent by a server in front of this site (a header adds to the page's own) would stop
// WebAssembly or PyScript without any error Pyodide reports: say so instead of waiting for ever.
document.addEventListener("securitypolicyviolation", (e) => {
  if (e.violatedDirective.startsWith("script-src") && ["eval", "wasm-eval"].includes(e.blockedURI)) {
    refuse(`This site's server forbids what Python in the browser needs (${e.blockedURI === "eval" ? "'unsafe-eval'" :
      "'wasm-unsafe-eval'"} in its Content-Security-Policy), so the page cannot start. Serve it with build.py serve ` +
      "or allow it in the server's policy.");
  }
});

const DAMAGED = "Reload the page; if this message stays, this copy of the site is damaged or incomplete: " +
  "rebuild it with build.py (or tell whoever serves it).";

// Subresource Integrity: the browser refuses bytes whose sha256 differs from the one the build wrote.
async function fetchAppWheel(url) {
  const name = decodeURIComponent(new URL(url).pathname.split("/").pop());
  try {
    const response = await fetch(url, { integrity: APP_WHEEL.dataset.integrity });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  } catch (e) {
    console.error("cnn101: the app wheel was refused:", e);
    throw refuse(`The page's own Python code (${name}) failed its integrity check or could not be loaded, ` +
      `so it was not run. ${DAMAGED}`);
  }
}

// The page's Python compiled ahead of time by the build (buildsite/bytecode.py): a zip of checked-hash .pyc
// files for NumPy, cnn101 and web/app, unpacked next to their sources before the first import. Without it
// (the first visit, an older build, a damaged copy) the page compiles them itself: ≈ 1–2 s slower, never
// wrong, as CPython uses a .pyc only when the hash of the source beside it matches.
// It is not part of the first visit (≈ 0.8 MB brotli more would break the first visit's byte budget): from
// the second visit on, once the page is ready, the service worker fetches it in the background
// (keepBytecodeLater) and every later start reads it from Cache Storage — never from the network at start.
const BYTECODE = document.querySelector('meta[name="cnn101-bytecode"]');
const bytecodeURL = () => new URL(BYTECODE.content, document.baseURI).href;

async function fetchBytecode() {
  if (!BYTECODE || !BYTECODE.dataset.integrity || !globalThis.caches || !globalThis.crypto?.subtle) return null;
  try {
    const hit = await caches.match(bytecodeURL(), { ignoreVary: true });
    if (!hit) return null;
    const bytes = new Uint8Array(await hit.arrayBuffer());
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    if ("sha256-" + btoa(String.fromCharCode(...digest)) !== BYTECODE.dataset.integrity) {
      throw new Error("the cached copy does not match this build");
    }
    return bytes;
  } catch (e) {
    console.warn("cnn101: no precompiled bytecode this time (Python compiles the page's modules itself):", e);
    return null;
  }
}

// Ask the service worker controlling this page (not on a first visit) to keep the bytecode for the next start.
function keepBytecodeLater() {
  const sw = globalThis.navigator?.serviceWorker;
  if (!BYTECODE || !BYTECODE.dataset.integrity || !sw || !sw.controller || !globalThis.caches) return;
  const ask = async () => {
    if (await caches.match(bytecodeURL(), { ignoreVary: true })) return;
    sw.controller?.postMessage({ type: "cnn101-keep", url: bytecodeURL(), integrity: BYTECODE.dataset.integrity });
  };
  const later = () => setTimeout(() => ask().catch(() => {}), 500);
  if (document.documentElement.dataset.ready) later();
  else addEventListener("cnn101:ready", later, { once: true });
}

const INSTALL_BYTECODE = `
def _install(path):
    import os, sys, zipfile
    roots = {"site-packages": next(p for p in sys.path if p.endswith("site-packages")),
             "app": os.path.join(os.getcwd(), "app")}
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            top, _, rest = info.filename.partition("/")
            if top not in roots or not rest.endswith(".pyc") or ".." in rest.split("/"):
                continue
            target = os.path.join(roots[top], rest)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                f.write(z.read(info))
    os.remove(path)
_install("/tmp/cnn101-bytecode.zip")
`;

function installBytecode(py, bytes) {
  if (!bytes) return;
  const globals = py.toPy({});
  try {
    py.FS.writeFile("/tmp/cnn101-bytecode.zip", bytes);
    py.runPython(INSTALL_BYTECODE, { globals });
    mark("bytecode");
  } catch (e) {
    console.warn("cnn101: the precompiled bytecode could not be unpacked (Python compiles the modules itself):", e);
  } finally {
    globals.destroy();
  }
}

function installWheel(py, bytes) {
  const globals = py.toPy({});
  try {
    const site = py.runPython("import sys\nnext(p for p in sys.path if p.endswith('site-packages'))", { globals });
    py.unpackArchive(bytes, "wheel", { extractDir: site });
    py.runPython("import importlib\nimportlib.invalidate_caches()", { globals });
  } finally {
    globals.destroy();
  }
}

function splitPackages(packages) {
  const wheel = APP_WHEEL && APP_WHEEL.dataset.integrity ? new URL(APP_WHEEL.content, document.baseURI).href : null;
  const ours = packages.filter((p) => wheel && new URL(p, document.baseURI).href === wheel);
  return [ours, packages.filter((p) => !ours.includes(p))];
}

async function loadPackages(py, others, wheels, bytecode) {
  const problems = [];
  if (others.length) {
    await py.loadPackage(others, { messageCallback: () => {}, errorCallback: (m) => problems.push(String(m)) });
  }
  mark("packages-loaded");
  const missing = others.filter((p) => !p.includes("/") && !py.loadedPackages[p.toLowerCase()]);
  if (missing.length || problems.length) {
    console.error("cnn101: packages not loaded:", missing, problems);
    const what = missing.length ? missing.join(", ") : "a package";
    throw refuse(`Python's ${what} could not be loaded (its file failed its integrity check or could not be ` +
      `fetched), so nothing can be computed. ${DAMAGED}`);
  }
  for (const wheel of wheels) installWheel(py, await wheel);
  mark("wheel-installed");
  installBytecode(py, await bytecode);
}

export async function loadPyodide(options = {}) {
  const { packages = [], ...rest } = options;
  const [ours, others] = splitPackages(packages);
  const wheels = ours.map((url) => fetchAppWheel(url));  // fetched while Pyodide starts
  wheels.forEach((w) => w.catch(() => {}));  // awaited in loadPackages; no "unhandled rejection" meanwhile
  const bytecode = fetchBytecode();  // never rejects
  keepBytecodeLater();
  const py = await startPyodide(rest);
  await loadPackages(py, others, wheels, bytecode);
  return py;
}

async function startPyodide(options) {
  const config = { ...options, indexURL: INDEX_URL, ...RUNTIME_FILES };  // PyScript would derive indexURL from this file's folder
  // the last start from the snapshot did not get the page ready, or web/boot.js restarted a stuck start
  if (store.get(PENDING) || document.documentElement.dataset.startRestarted) {
    console.warn("cnn101: the last start of this page did not finish; starting Python without the snapshot.");
    store.drop(PENDING);
    await dropSnapshot();
  }
  const snapshot = await readSnapshot();
  if (snapshot) {
    store.set(PENDING, "1");
    addEventListener("cnn101:ready", () => store.drop(PENDING), { once: true });
    try {
      const py = await pyodide.loadPyodide({ ...config, _loadSnapshot: snapshot });
      // the snapshot fixed the state of `random` (if imported) when it was taken: draw a fresh seed
      py.runPython("import sys\nif 'random' in sys.modules: sys.modules['random'].seed()", { globals: py.toPy({}) });
      mark("pyodide-from-snapshot");
      flag("pyodideSnapshot", "used");
      makeSnapshotLater(py);  // only if this page imported standard modules the snapshot lacks
      return py;
    } catch (e) {
      console.warn("cnn101: the Pyodide snapshot could not be used; starting as usual and making a new one.", e);
      store.drop(PENDING);
      await dropSnapshot();
    }
  }
  const py = await pyodide.loadPyodide(config);
  mark("pyodide-started");
  makeSnapshotLater(py);
  return py;
}
