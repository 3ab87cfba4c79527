// The ballot worker: loads the proving key (cached in the Cache API after its hash
// matched the manifest), encrypts, and makes the validity and eligibility proofs,
// off the page's thread so the page stays responsive. Messages in:
//   {type: "ballot", manifestEntry, setupKeysEntry, electionId, electionKey, credential,
//    censusRoot, path, selections, pkUrl}
//   {type: "audit"}  (reveals the last prepared ballot; it can then never be cast)
//   {type: "warm", manifestEntry, setupKeysEntry, electionId, pkUrl}  (load the key early)
// setupKeysEntry: the board's setup-keys entry (hex) of a ceremony election, else null.
// Messages out: {type: "progress", stage}, {type: "ready", ...}, {type: "audit", audit},
// {type: "error", message}.
import init, * as urna from "./pkg/urna_web.js";

const CACHE = "urna-proving-keys-v1";
let ready = null;
let prover = null; // {url, prover}
let prepared = null;

function electionOf(m) {
  const election = urna.Election.fromEntry(m.manifestEntry, m.electionId);
  if (m.setupKeysEntry) election.setSetupKeys(m.setupKeysEntry);
  return election;
}

async function wasm() {
  if (!ready) ready = init({ module_or_path: new URL("./pkg/urna_web_bg.wasm", import.meta.url) });
  await ready;
}

async function keyBytes(url) {
  let cache = null;
  try { cache = await caches.open(CACHE); } catch { cache = null; }
  if (cache) {
    const hit = await cache.match(url);
    if (hit) return { bytes: new Uint8Array(await hit.arrayBuffer()), cache, cached: true };
  }
  const resp = await fetch(url);
  if (!resp.ok) throw new Error(`proving_key_unavailable: the board does not serve the proving key (${resp.status})`);
  return { bytes: new Uint8Array(await resp.arrayBuffer()), cache, cached: false };
}

async function loadProver(election, url) {
  if (prover && prover.url === url) return { ms: 0, cached: true };
  const t0 = performance.now();
  const { bytes, cache, cached } = await keyBytes(url);
  let p;
  try {
    p = new urna.Prover(bytes, election); // checks SHA-256 against the manifest first
  } catch (e) {
    if (cache && cached) await cache.delete(url); // a damaged cache entry: drop it
    throw e;
  }
  if (cache && !cached) {
    await cache.put(url, new Response(bytes, { headers: { "content-type": "application/octet-stream" } }));
  }
  prover = { url, prover: p };
  return { ms: performance.now() - t0, cached };
}

self.onmessage = async (ev) => {
  const m = ev.data;
  try {
    await wasm();
    if (m.type === "warm") {
      const election = electionOf(m);
      self.postMessage({ type: "progress", stage: "key" });
      const key = await loadProver(election, m.pkUrl);
      self.postMessage({ type: "warmed", keyMs: key.ms, cached: key.cached });
    } else if (m.type === "ballot") {
      const election = electionOf(m);
      const t0 = performance.now();
      self.postMessage({ type: "progress", stage: "key" });
      const key = await loadProver(election, m.pkUrl);
      const t1 = performance.now();
      self.postMessage({ type: "progress", stage: "encrypt" });
      if (prepared) { prepared.free(); prepared = null; }
      prepared = urna.prepareBallot(election, m.electionKey, m.credential, m.censusRoot, m.path,
        JSON.stringify(m.selections));
      const t2 = performance.now();
      self.postMessage({ type: "progress", stage: "prove", trackingCode: prepared.trackingCode() });
      const cast = JSON.parse(prepared.prove(prover.prover, m.credential));
      const t3 = performance.now();
      self.postMessage({
        type: "ready", entry: cast.entry, trackingCode: cast.tracking_code,
        timings: { keyMs: t1 - t0, keyCached: key.cached, encryptMs: t2 - t1, proveMs: t3 - t2, totalMs: t3 - t0 },
      });
    } else if (m.type === "audit") {
      if (!prepared) throw new Error("bad_input: no ballot to audit");
      const audit = prepared.audit();
      prepared.free();
      prepared = null;
      self.postMessage({ type: "audit", audit });
    }
  } catch (e) {
    self.postMessage({ type: "error", message: String(e && e.message ? e.message : e) });
  }
};
