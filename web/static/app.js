// Urna voter client: register, vote (with audit), receipts, results, board.
// Plain ES module; all cryptography runs in WebAssembly (pkg/urna_web.js), ballots in a
// Web Worker (worker.js). Nothing is fetched from anywhere but this board.
import init, * as urna from "./pkg/urna_web.js";

const $ = (sel, root = document) => root.querySelector(sel);
const view = () => $("#view");
const wasmReady = init({ module_or_path: new URL("./pkg/urna_web_bg.wasm", import.meta.url) });

// ---------------------------------------------------------------------------------
// Messages: every failure the voter can meet, by code (server codes and wasm codes).
// ---------------------------------------------------------------------------------
const MESSAGES = {
  unknown_registration_code: "This registration code is not valid for this election. Check it and try again.",
  registration_code_used: "This registration code has already been used. Each code registers one voter once.",
  bad_registration_code: "A registration code is 32 letters and digits (0-9, a-f), for example 1a2b3c4d-…. Check what you typed.",
  census_frozen: "Registration is closed: the voter list has been frozen.",
  census_not_frozen: "Voting has not started yet: the voter list is not frozen. Come back when voting opens.",
  voting_not_open: "Voting is not open yet.",
  voting_closed: "Voting is closed: ballots are no longer accepted.",
  not_a_credential: "This file is not an Urna credential. Choose the credential file you saved when you registered.",
  credential_other_election: "This credential belongs to another election.",
  not_registered: "This credential is not in the frozen voter list of this election.",
  census_path_mismatch: "The board sent a census path that does not match your credential. Your ballot was not made.",
  invalid_ballot: "The board refused the ballot: a proof did not verify. Nothing was recorded. Try preparing it again.",
  wrong_census_root: "The board refused the ballot: it was made for another voter list. Reload the page and try again.",
  ciphertext_reused: "The board refused the ballot: it repeats a ciphertext already on the board.",
  overloaded: "The board is busy. Wait a moment and cast again; your ballot is kept on this page.",
  selection_count: "Check your choices: a contest has too few or too many options selected.",
  proving_key: "The proving key from the board does not match this election's manifest. Your ballot was not made.",
  proving_key_unavailable: "The board does not provide the proving key for this election.",
  election_key_mismatch: "The board states an election key that its key ceremony does not give. Your ballot was not made. Do not trust this board.",
  unexpected_entry: "The board sent a log entry that does not fit this election. Your ballot was not made.",
  rate_limited: "Too many requests from this device. Wait a moment and try again.",
  board_key_mismatch: "The board's signing key is not the one named in the election manifest. Do not trust this board.",
  receipt_invalid: "The board's receipt does not verify. Keep your tracking code and report this.",
  not_an_audit: "This file is not an Urna ballot audit.",
  audit_failed: "The audit FAILED: the ballot does not encrypt the choices shown. Do not use this device to vote and report it.",
  unknown_election: "There is no such election on this board.",
  network: "The board cannot be reached. Check your connection and try again.",
};

class Failure extends Error {
  constructor(code, detail) { super(MESSAGES[code] || detail || code); this.code = code; this.detail = detail; }
}

// A wasm error message is "<code>: <text>".
function fromWasm(e) {
  const msg = String(e && e.message ? e.message : e);
  const i = msg.indexOf(": ");
  const code = i > 0 ? msg.slice(0, i) : "error";
  return new Failure(code, i > 0 ? msg.slice(i + 2) : msg);
}

function wasmCall(f) {
  try { return f(); } catch (e) { throw fromWasm(e); }
}

function showError(err) {
  const box = $("#alert");
  const f = err instanceof Failure ? err : new Failure("error", String(err && err.message ? err.message : err));
  box.textContent = f.message;
  box.dataset.code = f.code;
  if (f.detail && f.detail !== f.message && MESSAGES[f.code]) {
    const d = document.createElement("span");
    d.className = "hint";
    d.textContent = ` (${f.detail})`;
    box.append(d);
  }
  box.hidden = false;
  box.focus?.();
}

function clearError() { const b = $("#alert"); b.hidden = true; b.textContent = ""; delete b.dataset.code; }

// ---------------------------------------------------------------------------------
// The board's API.
// ---------------------------------------------------------------------------------
async function api(path, opts = {}) {
  let resp;
  try { resp = await fetch(path, opts); } catch { throw new Failure("network"); }
  const type = resp.headers.get("content-type") || "";
  const body = type.includes("json") ? await resp.json() : await resp.text();
  if (!resp.ok) {
    const code = body && body.error ? body.error : `http_${resp.status}`;
    throw new Failure(code, body && body.message ? body.message : `HTTP ${resp.status}`);
  }
  return body;
}
const post = (path, entryHex) => api(path, {
  method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ entry: entryHex }),
});

// ---------------------------------------------------------------------------------
// Election context, cached per page load.
// ---------------------------------------------------------------------------------
const contexts = new Map();
async function election(id) {
  await wasmReady;
  const status = await api(`/v1/elections/${id}`);
  let ctx = contexts.get(id);
  if (!ctx) {
    const entry = await api(`/v1/log/entries/${status.manifest_index}`);
    const checked = wasmCall(() => urna.Election.fromEntry(entry.entry, id));
    const board = await api("/v1/board");
    wasmCall(() => checked.checkBoardKey(board.vkey));
    ctx = { id, manifestEntry: entry.entry, election: checked, setupKeysEntry: null,
      manifest: JSON.parse(wasmCall(() => checked.summary())), vkey: board.vkey };
    contexts.set(id, ctx);
  }
  // A ceremony election's key hashes come from the board's signed setup-keys entry
  // (checked in wasm against the board key the manifest names), never from its status.
  if (ctx.manifest.setup_mode === "ceremony" && !ctx.setupKeysEntry && status.keys
      && status.keys.entry_index != null) {
    const keysEntry = await api(`/v1/log/entries/${status.keys.entry_index}`);
    wasmCall(() => ctx.election.setSetupKeys(keysEntry.entry));
    ctx.setupKeysEntry = keysEntry.entry;
    ctx.manifest = JSON.parse(wasmCall(() => ctx.election.summary()));
  }
  ctx.status = status;
  return ctx;
}

// The election key, recomputed in the browser from the key ceremony's signed entries
// (never taken on the board's word): the dealer and complaint entries the board's status
// counts, read from the log after the manifest, checked and combined by the wasm module,
// and compared with the key the board states.
async function ceremonyKey(ctx) {
  const st = ctx.status;
  if (ctx.electionKey && ctx.electionKeyOf === st.election_public_key) return ctx.electionKey;
  const want = new Set(st.dealers);
  const found = new Set();
  const entries = [];
  let complaints = 0;
  let next = st.manifest_index + 1;
  const done = () => [...want].every((d) => found.has(d)) && complaints >= st.complaints;
  while (!done()) {
    const page = await api(`/v1/log/entries?start=${next}&limit=1000`);
    for (const e of page.entries) {
      if (e.index !== next) throw new Failure("unexpected_entry", "the board's log pages are not contiguous");
      next += 1;
      if (e.election_id !== ctx.id || (e.kind !== "dealer" && e.kind !== "complaint")) continue;
      entries.push(e.entry);
      if (e.kind === "complaint") complaints += 1;
      else found.add(wasmCall(() => urna.dealerOf(e.entry)));
      if (done()) break;
    }
    if (!done() && (page.next == null || page.entries.length === 0)) {
      throw new Failure("unexpected_entry", "the board's log lacks key-ceremony entries its status counts");
    }
  }
  ctx.electionKey = wasmCall(() => ctx.election.electionKey(JSON.stringify(entries), st.election_public_key || ""));
  ctx.electionKeyOf = st.election_public_key;
  return ctx.electionKey;
}

const credKey = (id) => `urna-credential-${id}`;
const receiptKey = (id) => `urna-receipts-${id}`;
const keptReceipts = (id) => { try { return JSON.parse(localStorage.getItem(receiptKey(id)) || "[]"); } catch { return []; } };

function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v == null) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat()) if (kid != null) el.append(kid);
  return el;
}

function setView(title, ...kids) {
  view().replaceChildren(h("h1", { text: title }), ...kids.flat());
  document.title = `${title} — Urna`;
}

function download(name, text) {
  const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  const a = h("a", { href: url, download: name, class: "button secondary", text: `Download ${name}` });
  return a;
}

const when = (t) => new Date(t * 1000).toLocaleString();
const phaseText = {
  setup: "Registration is open; the voter list is not frozen yet.",
  frozen: "The voter list is frozen; voting has not opened yet.",
  open: "Voting is open.",
  closed: "Voting is closed; the tally is being prepared.",
  tallied: "Voting is closed and the tally is published.",
};

// ---------------------------------------------------------------------------------
// Views.
// ---------------------------------------------------------------------------------
async function listView() {
  const list = await api("/v1/elections");
  const items = (Array.isArray(list) ? list : list.elections || []).map((e) =>
    h("li", {}, h("a", { href: `#/e/${e.election_id}`, text: e.title }), ` — ${phaseText[e.phase] || e.phase}`));
  setView("Elections on this board",
    items.length ? h("ul", { id: "elections" }, items) : h("p", { text: "There are no elections on this board yet." }));
}

async function homeView(id) {
  const ctx = await election(id);
  const m = ctx.manifest;
  setView(m.title,
    h("p", { class: "ok", role: "status", text: phaseText[ctx.status.phase] || ctx.status.phase }),
    h("dl", { class: "facts" },
      h("dt", { text: "Voting window" }), h("dd", { text: `${when(m.opens_at)} – ${when(m.closes_at)}` }),
      h("dt", { text: "Registered voters" }), h("dd", { text: String(ctx.status.registrations) }),
      h("dt", { text: "Ballots on the board" }), h("dd", { text: String(ctx.status.ballot_entries) }),
      h("dt", { text: "Election id" }), h("dd", { class: "mono", text: id }),
      h("dt", { text: "Manifest hash" }), h("dd", { class: "mono", text: m.manifest_hash })),
    h("h2", { text: "Contests" }),
    h("ul", {}, m.contests.map((c) => h("li", { text: `${c.title}: ${c.options.join(", ")}` }))));
}

async function registerView(id) {
  const ctx = await election(id);
  const form = h("form", { id: "register-form", novalidate: true },
    h("label", { for: "code", text: "Your one-time registration code" }),
    h("p", { class: "hint", id: "code-hint", text: "32 letters and digits, as your election authority gave it to you. Dashes and spaces are ignored." }),
    h("input", { id: "code", name: "code", type: "text", autocomplete: "off", spellcheck: "false", "aria-describedby": "code-hint", required: true }),
    h("div", { class: "option" }, h("input", { type: "checkbox", id: "keep", checked: true }),
      h("label", { for: "keep", text: "Also keep my credential in this browser" })),
    h("div", { class: "actions" }, h("button", { type: "submit", id: "register", text: "Register" })));
  const out = h("div", { id: "register-result" });
  setView(`Register — ${ctx.manifest.title}`,
    h("p", { text: "Registering makes your secret voting credential on this device. The board only receives a commitment to it." }),
    form, out);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearError();
    const btn = $("#register");
    btn.disabled = true;
    try {
      const fresh = await election(id);
      if (fresh.status.phase !== "setup") throw new Failure("census_frozen");
      const credential = wasmCall(() => urna.newCredential(id));
      const entry = wasmCall(() => urna.registrationEntry(credential, $("#code").value));
      await post(`/v1/elections/${id}/registrations`, entry);
      if ($("#keep").checked) localStorage.setItem(credKey(id), credential);
      const commitment = JSON.parse(credential).commitment;
      form.hidden = true;
      out.replaceChildren(
        h("p", { class: "ok", role: "status", id: "registered", text: "You are registered. Save your credential now: it is shown only this once, and you need it to vote." }),
        h("label", { for: "credential-text", text: "Your credential (secret — anyone who has it can vote as you)" }),
        h("textarea", { id: "credential-text", rows: "7", readonly: true }, credential),
        h("div", { class: "actions" }, download(`urna-credential-${commitment.slice(0, 8)}.json`, credential),
          h("a", { class: "button", href: `#/e/${id}/vote`, text: "Go to voting" })),
        h("p", { class: "hint mono", text: `Public commitment registered on the board: ${commitment}` }));
      $("#registered").focus?.();
    } catch (e) {
      showError(e instanceof Failure ? e : fromWasm(e));
    } finally {
      btn.disabled = false;
    }
  });
}

function contestFieldset(c, ci) {
  const single = c.min_selections === 1 && c.max_selections === 1;
  const rule = single ? "Choose one." : c.min_selections === c.max_selections
    ? `Choose exactly ${c.min_selections}.` : `Choose ${c.min_selections} to ${c.max_selections}.`;
  const count = h("p", { class: "hint", id: `count-${ci}`, "aria-live": "polite" });
  const fs = h("fieldset", { "data-contest": ci, "aria-describedby": `rule-${ci} count-${ci}` },
    h("legend", { text: c.title }),
    h("p", { class: "hint", id: `rule-${ci}`, text: rule }),
    c.options.map((o, oi) => h("div", { class: "option" },
      h("input", { type: single ? "radio" : "checkbox", name: `contest-${ci}`, id: `c${ci}o${oi}`, value: oi }),
      h("label", { for: `c${ci}o${oi}`, text: o }))),
    count);
  const update = () => {
    const boxes = [...fs.querySelectorAll("input")];
    const k = boxes.filter((b) => b.checked).length;
    if (!single) for (const b of boxes) b.disabled = !b.checked && k >= c.max_selections;
    count.textContent = single ? "" : `${k} of at most ${c.max_selections} chosen.`;
  };
  fs.addEventListener("change", update);
  update();
  return fs;
}

function readSelections(manifest) {
  return manifest.contests.map((c, ci) =>
    c.options.map((_, oi) => $(`#c${ci}o${oi}`).checked));
}

function checkSelections(manifest, sel) {
  manifest.contests.forEach((c, ci) => {
    const k = sel[ci].filter(Boolean).length;
    if (k < c.min_selections || k > c.max_selections) {
      throw new Failure("selection_count",
        `${c.title}: choose ${c.min_selections === c.max_selections ? c.min_selections : `${c.min_selections} to ${c.max_selections}`} (you chose ${k}).`);
    }
  });
}

let worker = null;
function ballotWorker() {
  if (!worker) worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
  return worker;
}
function ask(msg, onProgress) {
  return new Promise((resolve, reject) => {
    const w = ballotWorker();
    w.onmessage = (ev) => {
      const m = ev.data;
      if (m.type === "progress") onProgress?.(m);
      else if (m.type === "error") reject(fromWasm(m.message));
      else resolve(m);
    };
    w.onerror = (ev) => reject(new Failure("error", ev.message || "the ballot worker failed"));
    w.postMessage(msg);
  });
}

const STAGES = {
  key: "Loading the proving key (only the first time on this device)…",
  encrypt: "Encrypting your choices and proving they are valid…",
  prove: "Proving you are eligible, without revealing who you are…",
};

async function voteView(id) {
  const ctx = await election(id);
  const phase = ctx.status.phase;
  if (phase === "setup") throw new Failure("census_not_frozen");
  if (phase === "frozen") throw new Failure("voting_not_open");
  if (phase === "closed" || phase === "tallied") throw new Failure("voting_closed");
  const stored = localStorage.getItem(credKey(id));
  const credArea = h("div", { id: "credential-area" });
  let credential = null;
  const useCredential = (text) => {
    const commitment = wasmCall(() => urna.readCredential(text, id));
    credential = text;
    credArea.replaceChildren(h("p", { class: "ok", id: "credential-ok", text: `Using the credential ${commitment.slice(0, 16)}…` }));
  };
  if (stored) {
    try { useCredential(stored); } catch (e) { showError(e); }
  }
  if (!credential) {
    const input = h("input", { type: "file", id: "credential-file", accept: ".json,application/json", "aria-describedby": "cred-hint" });
    input.addEventListener("change", async () => {
      clearError();
      const file = input.files[0];
      if (!file) return;
      if (file.size > 4096) { showError(new Failure("not_a_credential")); return; }
      try { useCredential(await file.text()); } catch (e) { showError(e instanceof Failure ? e : fromWasm(e)); }
    });
    credArea.replaceChildren(h("label", { for: "credential-file", text: "Your credential file" }),
      h("p", { class: "hint", id: "cred-hint", text: "The file you saved when you registered. It is read on this device only." }), input);
  }
  const form = h("form", { id: "ballot-form", novalidate: true },
    ctx.manifest.contests.map(contestFieldset),
    h("div", { class: "actions" }, h("button", { type: "submit", id: "prepare", text: "Prepare my ballot" })));
  const progress = h("div", { id: "progress", role: "status", "aria-live": "polite" });
  const result = h("div", { id: "ballot-result" });
  const auditArea = h("div", { id: "audit-area" });
  setView(`Vote — ${ctx.manifest.title}`, credArea, form, progress, auditArea, result);

  const prepare = async () => {
    clearError();
    result.replaceChildren();
    if (!credential) throw new Failure("not_a_credential", "choose your credential file first");
    const selections = readSelections(ctx.manifest);
    checkSelections(ctx.manifest, selections);
    const commitment = JSON.parse(credential).commitment;
    const fresh = await election(id);
    if (fresh.status.phase !== "open") throw new Failure(fresh.status.phase === "frozen" ? "voting_not_open" : "voting_closed");
    let census;
    try {
      census = await api(`/v1/elections/${id}/census/path/${commitment}`);
    } catch (e) {
      if (e.code === "not_found") throw new Failure("not_registered");
      throw e;
    }
    const electionKey = await ceremonyKey(fresh);
    if (!fresh.manifest.verifying_key_hash) throw new Failure("voting_not_open", "the election's setup ceremony has not fixed its keys yet");
    const t0 = performance.now();
    progress.replaceChildren(h("progress", { "aria-label": "Preparing your ballot" }), h("p", { id: "stage", text: STAGES.key }));
    const ready = await ask({
      type: "ballot", manifestEntry: fresh.manifestEntry, setupKeysEntry: fresh.setupKeysEntry,
      electionId: id, electionKey, credential, censusRoot: census.root, path: census.path,
      selections, pkUrl: `/v1/keys/${fresh.manifest.verifying_key_hash}/proving-key`,
    }, (m) => { const s = $("#stage"); if (s) s.textContent = STAGES[m.stage] || m.stage; });
    const clickToReady = performance.now() - t0;
    window.urnaTimings = { ...ready.timings, clickToReadyMs: clickToReady };
    progress.replaceChildren();
    return { ready, selections };
  };

  const offer = ({ ready, selections }) => {
    result.replaceChildren(
      h("h2", { text: "Your ballot is ready" }),
      h("p", { text: "Write down or photograph your tracking code. It lets you find your ballot on the board." }),
      h("p", { class: "code", id: "tracking-code", tabindex: "-1", text: ready.trackingCode }),
      h("p", { class: "hint", text: `Prepared in ${(window.urnaTimings.clickToReadyMs / 1000).toFixed(2)} s on this device.` }),
      h("div", { class: "actions" },
        h("button", { type: "button", id: "cast", text: "Cast this ballot", onclick: () => cast(ready).catch(showError) }),
        h("button", { type: "button", id: "audit", class: "secondary", text: "Audit it instead (it will not be cast)",
          onclick: () => audit(ready, selections).catch(showError) })));
    $("#tracking-code").focus();
  };

  const cast = async (ready) => {
    clearError();
    $("#cast").disabled = true;
    try {
      const sub = await post(`/v1/elections/${id}/ballots`, ready.entry);
      const kept = JSON.parse(wasmCall(() => urna.checkReceipt(ctx.election, ctx.vkey, ready.trackingCode, ready.entry,
        JSON.stringify(sub.receipt))));
      if (sub.tracking_code && sub.tracking_code !== ready.trackingCode) throw new Failure("receipt_invalid", "the board reports another tracking code");
      const all = keptReceipts(id).filter((r) => r.tracking_code !== kept.tracking_code);
      all.push(kept);
      localStorage.setItem(receiptKey(id), JSON.stringify(all));
      location.hash = `#/e/${id}/receipt`;
    } catch (e) {
      const b = $("#cast"); if (b) b.disabled = false;
      throw e;
    }
  };

  const audit = async (ready, selections) => {
    clearError();
    const { audit: text } = await ask({ type: "audit" });
    const report = JSON.parse(wasmCall(() => urna.checkAuditFor(text, ctx.election, ctx.electionKey)));
    const same = JSON.stringify(report.selections) === JSON.stringify(selections);
    const lines = ctx.manifest.contests.map((c, ci) =>
      h("li", { text: `${c.title}: ${c.options.filter((_, oi) => report.selections[ci][oi]).join(", ") || "(none)"}` }));
    result.replaceChildren();
    auditArea.replaceChildren(
      h("h2", { text: "Audit of the ballot " + report.tracking_code }),
      h("p", { class: same ? "ok" : "alert", id: "audit-result",
        text: same ? "The audit passed: the encrypted ballot holds exactly your choices. It was not cast."
          : "The audit FAILED: the ballot holds other choices than yours. Do not use this device to vote." }),
      h("ul", {}, lines),
      h("p", { class: "hint", text: "You can check this audit on another device too (Check an audit file, below)." }),
      h("div", { class: "actions" }, download(`urna-audit-${report.tracking_code}.json`, text)),
      h("p", { role: "status", text: "A fresh ballot with the same choices is made for casting below; the audited one is discarded." }));
    const fresh = await prepare();
    offer(fresh);
  };

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const btn = $("#prepare");
    btn.disabled = true;
    auditArea.replaceChildren();
    try { offer(await prepare()); } catch (e) { progress.replaceChildren(); showError(e); } finally { btn.disabled = false; }
  });
}

async function receiptView(id) {
  const ctx = await election(id);
  const kept = keptReceipts(id);
  const rows = kept.map((r, i) => h("section", { class: "receipt", "data-index": r.index },
    h("h2", { text: `Ballot ${r.tracking_code}` }),
    h("dl", { class: "facts" },
      h("dt", { text: "Tracking code" }), h("dd", { class: "code", text: r.tracking_code }),
      h("dt", { text: "Board entry" }), h("dd", { text: `#${r.index}` }),
      h("dt", { text: "Checked against" }), h("dd", { id: `size-${i}`, text: `the signed checkpoint of ${r.tree_size} entries` })),
    h("p", { class: "ok", id: `verified-${i}`, role: "status", text: "Your ballot is on the board: its inclusion proof verified against the board's signed checkpoint." }),
    h("details", {}, h("summary", { text: "Signed checkpoint" }), h("pre", { text: r.checkpoint })),
    h("div", { class: "actions" }, h("button", { type: "button", class: "secondary", id: `recheck-${i}`,
      text: "Check again against the latest checkpoint", onclick: () => recheck(i).catch(showError) }),
    download(`urna-receipt-${r.tracking_code}.json`, JSON.stringify(r, null, 2)))));
  setView(`My receipts — ${ctx.manifest.title}`,
    rows.length ? rows : h("p", { text: "No receipt is kept in this browser for this election." }));

  async function recheck(i) {
    clearError();
    const r = keptReceipts(id)[i];
    const cons = await api(`/v1/log/consistency?from=${r.tree_size}`);
    const incl = await api(`/v1/log/inclusion?index=${r.index}&size=${cons.to}`);
    const updated = JSON.parse(wasmCall(() => urna.recheckReceipt(ctx.election, ctx.vkey, JSON.stringify(r),
      cons.checkpoint, JSON.stringify(cons.proof), JSON.stringify(incl.proof))));
    const all = keptReceipts(id);
    all[i] = updated;
    localStorage.setItem(receiptKey(id), JSON.stringify(all));
    $(`#size-${i}`).textContent = `the signed checkpoint of ${updated.tree_size} entries`;
    $(`#verified-${i}`).textContent = `Checked again: the board's log of ${updated.tree_size} entries extends the one of your receipt (${r.tree_size}), and still holds your ballot.`;
  }
}

async function resultsView(id) {
  const ctx = await election(id);
  if (ctx.status.tally_index == null) {
    setView(`Results — ${ctx.manifest.title}`, h("p", { id: "no-tally", text: `The tally has not been published yet. ${phaseText[ctx.status.phase] || ""}` }));
    return;
  }
  const entry = await api(`/v1/log/entries/${ctx.status.tally_index}`);
  const res = JSON.parse(wasmCall(() => urna.tallyResult(entry.entry, ctx.election)));
  setView(`Results — ${ctx.manifest.title}`,
    h("p", { id: "ballots-counted", text: `${res.ballots} ballots counted.` }),
    res.contests.map((c) => h("table", {},
      h("caption", { text: c.title }),
      h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "Option" }), h("th", { scope: "col", text: "Votes" }))),
      h("tbody", {}, c.counts.map(([label, n]) => h("tr", {}, h("th", { scope: "row", text: label }), h("td", { text: String(n) })))))),
    h("p", { class: "hint", text: "Anyone can recount from the board with urna-verify." }));
}

async function boardView(id, start = 0) {
  const ctx = await election(id);
  const page = await api(`/v1/log/entries?start=${start}&limit=50`);
  const rows = page.entries.map((e) => {
    let d;
    try { d = JSON.parse(urna.describeEntry(e.entry, e.election_id === id ? ctx.manifest.manifest_hash : "")); }
    catch { d = { kind: e.kind, detail: "(cannot be decoded)" }; }
    return h("tr", {}, h("td", { text: String(e.index) }), h("td", { text: d.kind }),
      h("td", { class: "detail", text: e.election_id === id ? d.detail : `another election: ${d.detail}` }));
  });
  const nav = h("div", { class: "actions" });
  if (start > 0) nav.append(h("a", { class: "button secondary", href: `#/e/${id}/board/${Math.max(0, start - 50)}`, text: "Previous entries" }));
  if (page.next != null) nav.append(h("a", { class: "button secondary", href: `#/e/${id}/board/${page.next}`, text: "Next entries" }));
  setView("The bulletin board",
    h("p", { text: `The board's append-only log holds ${page.size} entries.` }),
    h("table", { id: "board-table" }, h("thead", {}, h("tr", {},
      h("th", { scope: "col", text: "#" }), h("th", { scope: "col", text: "Kind" }), h("th", { scope: "col", text: "What" }))),
      h("tbody", {}, rows)),
    nav);
}

async function auditView() {
  await wasmReady;
  const input = h("input", { type: "file", id: "audit-file", accept: ".json,application/json" });
  const out = h("div", { id: "audit-check", role: "status" });
  input.addEventListener("change", async () => {
    clearError();
    out.replaceChildren();
    const file = input.files[0];
    if (!file) return;
    try {
      if (file.size > 4 << 20) throw new Failure("not_an_audit");
      const text = await file.text();
      const report = JSON.parse(wasmCall(() => urna.checkAudit(text)));
      out.replaceChildren(h("p", { class: "ok", text: `The audit of ${report.tracking_code} passed.` }),
        h("p", { text: `Election ${report.election_id}; the choices per contest (option numbers): ` +
          report.selections.map((s) => `[${s.map((v, i) => (v ? i + 1 : null)).filter(Boolean).join(", ")}]`).join(" ") }));
    } catch (e) { showError(e instanceof Failure ? e : fromWasm(e)); }
  });
  setView("Check a ballot audit", h("p", { text: "Re-encrypts the revealed choices and compares them with the audited ballot, on this device." }),
    h("label", { for: "audit-file", text: "Audit file" }), input, out);
}

// ---------------------------------------------------------------------------------
// Routing: #/, #/audit, #/e/{id}[/register|vote|receipt|results|board[/start]].
// ---------------------------------------------------------------------------------
async function route() {
  clearError();
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean);
  const nav = $("#election-nav");
  try {
    if (parts[0] === "e" && /^[0-9a-fA-F]{64}$/.test(parts[1] || "")) {
      const id = parts[1].toLowerCase();
      const sub = parts[2] || "home";
      nav.hidden = false;
      for (const a of nav.querySelectorAll("a")) {
        a.href = a.dataset.view === "home" ? `#/e/${id}` : `#/e/${id}/${a.dataset.view}`;
        if (a.dataset.view === sub) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
      }
      view().replaceChildren(h("p", { text: "Loading…" }));
      const views = { home: homeView, register: registerView, vote: voteView, receipt: receiptView, results: resultsView };
      if (sub === "board") await boardView(id, Number(parts[3] || 0) || 0);
      else if (views[sub]) await views[sub](id);
      else throw new Failure("not_found", "No such page.");
    } else {
      nav.hidden = true;
      if (parts[0] === "audit") await auditView(); else await listView();
    }
  } catch (e) {
    view().replaceChildren();
    showError(e instanceof Failure ? e : fromWasm(e));
  }
  $("#main").focus({ preventScroll: true });
}

window.addEventListener("hashchange", route);
route();
