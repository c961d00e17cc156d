// Compile the page's Python to CPython 3.12 bytecode with the very runtime that will run it (Pyodide
// 0.27.7 under Node), for buildsite/bytecode.py. Job on stdin, as JSON:
//   {indexURL, packages: [lock names or absolute .whl paths], app: {"name.py": source}, code, out}
// `code` (Python) writes the zip of .pyc files to /tmp/bytecode.zip; this script copies it to `out`.
// Prints one line "@@BYTECODE@@ {ok, error, blocked}" and exits. No network: every fetch is refused.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire, register } from "node:module";
import { pathToFileURL } from "node:url";

const job = JSON.parse(readFileSync(0, "utf8"));
const blocked = [];
globalThis.fetch = async (input) => {
  const url = typeof input === "string" ? input : (input && input.url) || String(input);
  blocked.push(url);
  throw new Error(`bytecode: refused to fetch ${url} (only local files may be loaded)`);
};

// pyodide.mjs imports "ws" at start-up; resolve it from this repo's node_modules.
const wsURL = pathToFileURL(createRequire(import.meta.url).resolve("ws")).href;
register("data:text/javascript," + encodeURIComponent(
  `export async function resolve(s, c, next) { return s === "ws" ? { url: ${JSON.stringify(wsURL)}, shortCircuit: true } : next(s, c); }`));

const out = { ok: false, error: null, blocked };
try {
  const { loadPyodide } = await import(pathToFileURL(job.indexURL + "pyodide.mjs").href);
  const py = await loadPyodide({ indexURL: job.indexURL, packageCacheDir: job.indexURL,
    stdout: () => {}, stderr: () => {} });
  const errors = [];
  await py.loadPackage(job.packages, { messageCallback: () => {}, errorCallback: (m) => errors.push(m),
    checkIntegrity: true });
  if (errors.length) throw new Error("loadPackage failed: " + errors.join("; "));
  py.FS.mkdirTree("/tmp/app-src/app");
  for (const [name, source] of Object.entries(job.app)) py.FS.writeFile(`/tmp/app-src/app/${name}`, source);
  await py.runPythonAsync(job.code);
  writeFileSync(job.out, py.FS.readFile("/tmp/bytecode.zip"));
  out.ok = true;
} catch (err) {
  out.error = String(err && err.message || err);
}
process.stdout.write("\n@@BYTECODE@@ " + JSON.stringify(out) + "\n", () => process.exit(0));
