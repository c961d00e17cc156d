// The model trained in this browser or chosen with "Use your own model", kept in IndexedDB across reloads
// (window.cnn101Store, used by web/app/model_store.py; `kind` is "trained" or "chosen"). A save writes a new record, then points "current" at it and deletes the old
// record — all in one transaction, so a tab closed mid-write leaves the previous model whole.
(function () {
  const DB = "cnn101-models";
  const open = () => new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => {
      req.result.createObjectStore("records", { autoIncrement: true });
      req.result.createObjectStore("pointer");
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  const done = (tx) => new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve(true);
    tx.onabort = tx.onerror = () => reject(tx.error || new Error("the write was abandoned"));
  });
  async function save(card, npz, label, kind) {
    const db = await open();
    try {
      const tx = db.transaction(["records", "pointer"], "readwrite");
      const records = tx.objectStore("records");
      const pointer = tx.objectStore("pointer");
      const added = records.add({ card, npz, label, kind: kind || "trained", saved: Date.now() });
      added.onsuccess = () => {
        const old = pointer.get("current");
        old.onsuccess = () => {
          pointer.put({ id: added.result }, "current");
          if (old.result && old.result.id !== undefined) records.delete(old.result.id);
        };
      };
      return await done(tx);
    } finally {
      db.close();
    }
  }
  async function load() {
    const db = await open();
    try {
      const tx = db.transaction(["records", "pointer"], "readonly");
      const got = new Promise((resolve) => {
        const p = tx.objectStore("pointer").get("current");
        p.onsuccess = () => {
          if (!p.result) return resolve(null);
          const r = tx.objectStore("records").get(p.result.id);
          r.onsuccess = () => resolve(r.result || null);
        };
      });
      await done(tx);
      return await got;
    } finally {
      db.close();
    }
  }
  async function forget() {
    const db = await open();
    try {
      const tx = db.transaction(["records", "pointer"], "readwrite");
      tx.objectStore("pointer").delete("current");
      tx.objectStore("records").clear();
      return await done(tx);
    } finally {
      db.close();
    }
  }
  // The page asks for the kept model while it starts (web/app/train_panel.py): opening IndexedDB (made on
  // a first visit) takes a while, so it is read now, while Python starts, and that first answer is handed
  // over once. A save or forget before then makes it stale: it is dropped and read again.
  let early = load().catch(() => undefined);
  const first = async () => {
    const pending = early;
    early = null;
    const got = pending ? await pending : undefined;
    return got === undefined ? load() : got;
  };
  window.cnn101Store = {
    save: (...a) => { early = null; return save(...a); },
    load: first,
    forget: () => { early = null; return forget(); },
  };
})();
