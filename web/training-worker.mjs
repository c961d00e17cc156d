// The training worker: its own Pyodide (the same runtime, NumPy and cnn101 wheel the page uses, all from
// this site) runs cnn101.learn so that the page keeps its frame rate. Every number is computed by the
// package (cnn101.learn.exchange.Job); this file only passes messages.
//
// page → worker: {type: "start", indexURL, wheel, integrity, card, npz, xs, xsShape, ys, xv, xvShape, yv,
//                 settings, every, lockFileURL?, stdLibURL?}; {type: "pause"}; {type: "resume"}; {type: "step"}; {type: "stop"}
// worker → page: {type: "ready"}; {type: "progress", report (JSON text), npz}; {type: "paused"} (no step
//                 under way any more); {type: "failed", message}
import { loadPyodide } from "./pyodide/pyodide.mjs";

let py = null;
let job = null;
let running = false;
let every = 1;
let busy = false;

async function start(msg) {
  if (!py) {
    // the page's own lock and stdlib when it has them (pyodide-start.mjs), so nothing is fetched twice
    const files = Object.fromEntries(Object.entries({ lockFileURL: msg.lockFileURL, stdLibURL: msg.stdLibURL })
      .filter(([, v]) => v));
    py = await loadPyodide({ indexURL: msg.indexURL, ...files });
    await py.loadPackage(["numpy"], { messageCallback: () => {} });
    const response = await fetch(msg.wheel, msg.integrity ? { integrity: msg.integrity } : {});
    if (!response.ok) throw new Error(`the cnn101 wheel could not be fetched (HTTP ${response.status})`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    const site = py.runPython("import sys\nnext(p for p in sys.path if p.endswith('site-packages'))");
    py.unpackArchive(bytes, "wheel", { extractDir: site });
    py.runPython("import importlib\nimportlib.invalidate_caches()");
  }
  const Job = py.pyimport("cnn101.learn.exchange").Job;
  if (job) job.destroy();
  job = Job(msg.card, msg.npz, msg.xs, msg.xsShape, msg.ys, msg.xv, msg.xvShape, msg.yv, msg.settings);
  Job.destroy();
  every = Math.max(1, msg.every | 0);
  postMessage({ type: "ready" });
}

// n steps, then the report and the weights to the page
function advance(n) {
  const report = job.advance(n);
  const weights = job.weights();
  const view = weights.getBuffer("u8");
  const npz = view.data.slice();  // a copy the page can own
  view.release();
  weights.destroy();
  postMessage({ type: "progress", report, npz }, [npz.buffer]);
  return JSON.parse(report);
}

const tick = () => new Promise((resolve) => {  // let messages (pause, stop) in between chunks of steps
  const channel = new MessageChannel();
  channel.port1.onmessage = () => resolve();
  channel.port2.postMessage(0);
});

async function run() {
  if (busy) return;
  busy = true;
  try {
    while (running && job) {
      const r = advance(every);
      if (r.done || r.error) running = false;
      await tick();
    }
  } catch (e) {
    running = false;
    postMessage({ type: "failed", message: String(e && e.message || e) });
  } finally {
    busy = false;
  }
}

addEventListener("message", async (event) => {
  const msg = event.data;
  try {
    if (msg.type === "start") {
      running = false;
      await start(msg);
    } else if (msg.type === "resume") {
      running = true;
      run();
    } else if (msg.type === "pause") {
      running = false;
      while (busy) await tick();  // the chunk under way finishes and reports first
      postMessage({ type: "paused" });
    } else if (msg.type === "step") {
      running = false;
      while (busy) await tick();
      if (job) advance(1);
    } else if (msg.type === "stop") {
      running = false;
    }
  } catch (e) {
    running = false;
    postMessage({ type: "failed", message: String(e && e.message || e) });
  }
});
