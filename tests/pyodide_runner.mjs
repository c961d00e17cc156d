// Run Python inside Pyodide under Node, from local files only (driven by tests/pyodide_node.py).
// Job on stdin, as JSON: {indexURL, packages: [lock names or absolute .whl paths], mounts: {"/mnt": "/host/dir"}, code,
//   lockFileURL?, stdLibURL? (the app's own lock and stdlib, buildsite/stored.py)}
// Prints one line "@@PYODIDE_RESULT@@ {ok, result, error, loaded, blocked, messages}" and exits.
// Node neither checks package hashes nor refuses a CDN: any network fetch is refused and reported here,
// and the Python side verifies every file against the official lock before starting us.
import { readFileSync } from "node:fs";
import { createRequire, register } from "node:module";
import { pathToFileURL } from "node:url";

const job = JSON.parse(readFileSync(0, "utf8"));
const blocked = [];
globalThis.fetch = async (input) => {
  const url = typeof input === "string" ? input : (input && input.url) || String(input);
  blocked.push(url);
  throw new Error(`pyodide_runner: refused to fetch ${url} (only local files may be loaded)`);
};

// pyodide.mjs imports "ws" at start-up; resolve it from this repo's node_modules wherever dist/ lives.
const wsURL = pathToFileURL(createRequire(import.meta.url).resolve("ws")).href;
register("data:text/javascript," + encodeURIComponent(
  `export async function resolve(s, c, next) { return s === "ws" ? { url: ${JSON.stringify(wsURL)}, shortCircuit: true } : next(s, c); }`));

const out = { ok: false, result: null, error: null, loaded: {}, blocked, messages: [] };
try {
  const { loadPyodide } = await import(pathToFileURL(job.indexURL + "pyodide.mjs").href);
  const stdout = [], stderr = [];
  const files = Object.fromEntries(Object.entries({ lockFileURL: job.lockFileURL, stdLibURL: job.stdLibURL })
    .filter(([, v]) => v));
  const pyodide = await loadPyodide({ indexURL: job.indexURL, packageCacheDir: job.indexURL, ...files,
    stdout: (s) => stdout.push(s), stderr: (s) => stderr.push(s) });
  const errors = [];
  if (job.packages.length) {
    await pyodide.loadPackage(job.packages, { messageCallback: (m) => out.messages.push(m),
      errorCallback: (m) => errors.push(m), checkIntegrity: true });
  }
  out.loaded = Object.fromEntries(Object.entries(pyodide.loadedPackages));
  if (errors.length) throw new Error("loadPackage failed: " + errors.join("; "));
  for (const [mountpoint, host] of Object.entries(job.mounts || {})) {
    pyodide.FS.mkdirTree(mountpoint);
    pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: host }, mountpoint);
  }
  await pyodide.runPythonAsync(job.code);
  out.result = pyodide.runPython("import json as _j; _j.dumps(globals().get('RESULT'))");
  out.stdout = stdout.join("\n");
  out.stderr = stderr.join("\n");
  out.ok = true;
} catch (err) {
  out.error = String(err && err.message || err);
}
process.stdout.write("\n@@PYODIDE_RESULT@@ " + JSON.stringify(out) + "\n", () => process.exit(0));
