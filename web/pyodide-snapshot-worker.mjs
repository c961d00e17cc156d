// Makes the Pyodide memory snapshot that pyodide-start.mjs restores on later visits: a fresh Pyodide that
// has imported the standard modules the page uses (no packages), its memory stored in Cache Storage.
// Runs in the background after the page is ready, when the browser has no snapshot or an incomplete one.
import { loadPyodide } from "./pyodide/pyodide.mjs";

addEventListener("message", async (event) => {
  const { indexURL, lockFileURL, stdLibURL, cache, key, modules } = event.data;
  try {
    // the page's own lock and stdlib (pyodide-start.mjs): a snapshot fits only the stdlib zip it was made with
    const files = Object.fromEntries(Object.entries({ lockFileURL, stdLibURL }).filter(([, v]) => v));
    const py = await loadPyodide({ indexURL, ...files, _makeSnapshot: true });
    // the standard modules the page imports, so that restoring skips their import as well
    const globals = py.toPy({ MODULES: modules || [] });
    py.runPython(`
import importlib, sys, types
for name in MODULES:
    try:
        importlib.import_module(name)
    except BaseException:
        pass
record = types.ModuleType("_cnn101_snapshot")
record.modules = frozenset(sys.modules) | frozenset(MODULES)  # asked for, imported or not: the list settles
sys.modules["_cnn101_snapshot"] = record
`, { globals });
    globals.destroy();
    const snapshot = py.makeMemorySnapshot();
    const store = await caches.open(cache);
    for (const request of await store.keys()) {  // a snapshot of an older Pyodide: not needed any more
      if (request.url !== key) await store.delete(request);
    }
    await store.put(key, new Response(snapshot, { headers: { "Content-Type": "application/octet-stream",
                                                              "X-Snapshot-Length": String(snapshot.length) } }));
    postMessage({ ok: true, bytes: snapshot.length });
  } catch (e) {
    postMessage({ ok: false, error: String(e && e.stack || e) });
  }
}, { once: true });
