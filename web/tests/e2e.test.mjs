// End-to-end tests of the voter web client in headless Chromium against a real
// urna-server, driven by playwright-core. Run by scripts/web-e2e.sh, which builds the
// client, starts the server and sets:
//   URNA_URL      the server's base URL
//   URNA_DRIVER   the urna-web-e2e-driver binary (plays authority and trustees)
//   URNA_STATE    a scratch directory
//   URNA_TIMING   "1" to measure the ballot timings (depth-20 server) instead
// Screenshots of every page go to web/test-results/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const URL_ = process.env.URNA_URL;
const DRIVER = process.env.URNA_DRIVER;
const STATE = process.env.URNA_STATE;
const TIMING = process.env.URNA_TIMING === "1";
const RESULTS = join(dirname(fileURLToPath(import.meta.url)), "..", "test-results");
mkdirSync(RESULTS, { recursive: true });

let browser;
const pages = [];
async function failShots() {
  for (const [i, p] of pages.entries()) await p.screenshot({ path: join(RESULTS, `failure-${i}.png`), fullPage: true }).catch(() => {});
}
before(async () => {
  assert.ok(URL_ && DRIVER && STATE, "run through scripts/web-e2e.sh");
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });
});
after(async () => { await browser?.close(); });

function driver(state, ...args) {
  const out = execFileSync(DRIVER, [URL_, join(STATE, state), ...args], { encoding: "utf8", timeout: 300_000 });
  return JSON.parse(out.trim().split("\n").pop());
}

async function newPage(width = 1000) {
  const context = await browser.newContext({ viewport: { width, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  const external = [];
  page.on("request", (r) => { if (!r.url().startsWith(URL_) && !r.url().startsWith("blob:") && !r.url().startsWith("data:")) external.push(r.url()); });
  page.on("pageerror", (e) => console.error("page error:", e.message));
  page.on("console", (m) => { if (m.type() === "error") console.error("console:", m.text()); });
  pages.push(page);
  page.external = external;
  return page;
}

async function go(page, hash) {
  // A full load every time: a same-document hash change to the current hash does nothing.
  await page.goto("about:blank");
  await page.goto(`${URL_}/${hash}`);
  await page.waitForFunction(() => !document.querySelector("#view")?.textContent.startsWith("Loading"));
}

async function alertCode(page) {
  await page.locator("#alert").waitFor({ state: "visible" });
  return page.locator("#alert").getAttribute("data-code");
}

async function shot(page, name) {
  await page.screenshot({ path: join(RESULTS, `${name}.png`), fullPage: true });
}

async function register(page, id, code, keep = true) {
  await go(page, `#/e/${id}/register`);
  await page.fill("#code", code);
  if (!keep) await page.uncheck("#keep");
  await page.click("#register");
}

async function prepare(page) {
  await page.evaluate(() => { window.urnaTimings = null; document.querySelector("#ballot-result")?.replaceChildren(); });
  await page.click("#prepare");
  await page.locator("#tracking-code").waitFor({ timeout: 300_000 });
  return (await page.textContent("#tracking-code")).trim();
}

test("register, vote, audit, receipt, board, re-vote, tally", { skip: TIMING }, async () => {
  try { await flow(); } catch (e) { await failShots(); throw e; }
});

async function flow() {
  const setup = driver("e1.json", "setup", "4", "Student council 2026");
  const id = setup.election_id;
  const [c1, c2, c3, c4] = setup.codes;

  const home = await newPage();
  await go(home, "");
  await home.locator(`#elections a[href="#/e/${id}"]`).waitFor();
  await shot(home, "01-elections");
  await go(home, `#/e/${id}`);
  await shot(home, "02-election");

  // Registration failures: malformed code, unknown code.
  const p1 = await newPage();
  await register(p1, id, "not a code");
  assert.equal(await alertCode(p1), "bad_registration_code");
  await register(p1, id, "00112233-44556677-8899aabb-ccddeeff");
  assert.equal(await alertCode(p1), "unknown_registration_code");
  await shot(p1, "03-register-unknown-code");

  // Voter 1 registers and keeps the credential in the browser.
  await register(p1, id, c1);
  await p1.locator("#registered").waitFor();
  const cred1 = await p1.inputValue("#credential-text");
  assert.ok(JSON.parse(cred1).secret);
  await shot(p1, "04-registered");

  // The same code again: used.
  const p2 = await newPage(375); // phone width
  await register(p2, id, c1);
  assert.equal(await alertCode(p2), "registration_code_used");
  // Voter 2 registers without keeping the credential in the browser.
  await register(p2, id, c2, false);
  await p2.locator("#registered").waitFor();
  const cred2 = await p2.inputValue("#credential-text");
  await shot(p2, "05-registered-phone");

  // Census not frozen yet.
  await go(p1, `#/e/${id}/vote`);
  assert.equal(await alertCode(p1), "census_not_frozen");
  await shot(p1, "06-vote-not-frozen");

  driver("e1.json", "freeze");
  await go(p1, `#/e/${id}/vote`);
  assert.equal(await alertCode(p1), "voting_not_open");
  await register(p1, id, c3);
  assert.equal(await alertCode(p1), "census_frozen");

  driver("e1.json", "open");
  await go(p1, `#/e/${id}/vote`);
  await p1.locator("#credential-ok").waitFor();
  // The page enforces min: nothing chosen in "Chair".
  await p1.click("#prepare");
  assert.equal(await alertCode(p1), "selection_count");
  // ... and max: both proposals chosen disables nothing (max 2); choose Grace.
  await p1.check("#c0o1");
  await p1.check("#c1o0");
  await p1.check("#c1o1");
  const code1 = await prepare(p1);
  assert.match(code1, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
  await shot(p1, "07-ballot-ready");

  // Benaloh audit: reveals the choices; a fresh ballot (new code) is made for casting.
  await p1.click("#audit");
  await p1.locator("#audit-result.ok").waitFor({ timeout: 300_000 });
  await shot(p1, "08-audit");
  await p1.waitForFunction((old) => {
    const el = document.querySelector("#tracking-code");
    return el && el.textContent.trim() !== old;
  }, code1, { timeout: 300_000 });
  const code2 = (await p1.textContent("#tracking-code")).trim();
  assert.notEqual(code2, code1);

  // The server refusing a ballot: a tampered entry is rejected and nothing is kept.
  await p1.route("**/ballots", async (route) => {
    const body = JSON.parse(route.request().postData());
    const e = body.entry;
    const i = e.length - 200;
    body.entry = e.slice(0, i) + (e[i] === "0" ? "1" : "0") + e.slice(i + 1);
    await route.continue({ postData: JSON.stringify(body) });
  });
  await p1.click("#cast");
  const refused = await alertCode(p1);
  assert.ok(["invalid_ballot", "bad_encoding", "invalid_point"].includes(refused), refused);
  await shot(p1, "09-ballot-refused");
  await p1.unroute("**/ballots");

  // Cast for real: receipt checked in the browser.
  await p1.click("#cast");
  await p1.locator("#verified-0").waitFor({ timeout: 60_000 });
  assert.equal((await p1.textContent(".receipt .code")).trim(), code2);
  await shot(p1, "10-receipt");

  // The ballot is on the board, under its tracking code.
  await go(p1, `#/e/${id}/board`);
  await p1.locator("#board-table").waitFor();
  assert.ok((await p1.textContent("#board-table")).includes(code2));
  await shot(p1, "11-board");

  // Voter 2: a file that is not a credential, then the real one (phone width).
  await go(p2, `#/e/${id}/vote`);
  await p2.setInputFiles("#credential-file", { name: "x.json", mimeType: "application/json", buffer: Buffer.from('{"hello": 1}') });
  assert.equal(await alertCode(p2), "not_a_credential");
  await shot(p2, "12-not-a-credential");
  await p2.setInputFiles("#credential-file", { name: "c.json", mimeType: "application/json", buffer: Buffer.from(cred2) });
  await p2.locator("#credential-ok").waitFor();
  await p2.check("#c0o0");
  // Keyboard: the cast button is reachable and works with Enter.
  await prepare(p2);
  await p2.focus("#cast");
  await p2.keyboard.press("Enter");
  await p2.locator("#verified-0").waitFor({ timeout: 60_000 });

  // Voter 1 re-votes (Barbara, no proposals); the receipt re-checks against a newer checkpoint.
  await go(p1, `#/e/${id}/vote`);
  await p1.check("#c0o2");
  const code3 = await prepare(p1);
  await p1.click("#cast");
  await p1.locator("#verified-1").waitFor({ timeout: 60_000 });
  await p1.click("#recheck-0");
  await p1.waitForFunction(() => document.querySelector("#verified-0").textContent.startsWith("Checked again"));
  await shot(p1, "13-receipts-rechecked");
  assert.ok(code3);

  // A receipt against a forged checkpoint does not verify.
  await p1.route("**/v1/log/consistency*", async (route) => {
    const resp = await route.fetch();
    const body = await resp.json();
    body.checkpoint = body.checkpoint.replace(/\n(\d+)\n/, (_, n) => `\n${Number(n) + 1}\n`);
    await route.fulfill({ response: resp, json: body });
  });
  await p1.click("#recheck-0");
  assert.equal(await alertCode(p1), "receipt_invalid");
  await p1.unroute("**/v1/log/consistency*");

  // Close: voting closed; tally: the last ballot of each voter counts.
  driver("e1.json", "close");
  await go(p1, `#/e/${id}/vote`);
  assert.equal(await alertCode(p1), "voting_closed");
  await shot(p1, "14-vote-closed");
  await go(p1, `#/e/${id}/results`);
  await p1.locator("#no-tally").waitFor();
  driver("e1.json", "tally");
  await go(p1, `#/e/${id}/results`);
  await p1.locator("#ballots-counted").waitFor();
  assert.equal((await p1.textContent("#ballots-counted")).trim(), "2 ballots counted.");
  const cells = await p1.$$eval("table tbody tr", (rows) => rows.map((r) => r.textContent));
  // Chair: Ada 1 (voter 2), Grace 0 (voter 1 re-voted), Barbara 1; proposals 0 and 0.
  assert.deepEqual(cells, ["Ada1", "Grace0", "Barbara1", "Longer library hours0", "Bike racks0"]);
  await shot(p1, "15-results");

  // A standalone audit check of a file that is not one.
  await go(p1, "#/audit");
  await p1.setInputFiles("#audit-file", { name: "a.json", mimeType: "application/json", buffer: Buffer.from("[]") });
  assert.equal(await alertCode(p1), "not_an_audit");
  await shot(p1, "16-audit-check");

  for (const p of [home, p1, p2]) assert.deepEqual(p.external, [], "no request leaves the board");
  void c4;
}

test("a ceremony election: keys from the board's setup-keys entry", { skip: TIMING }, async () => {
  // The driver runs the setup ceremony on the board (trustees contribute, the authority
  // closes each phase with a beacon); the page must read the key hashes from the
  // board-signed setup-keys entry and prove with the key the ceremony derived.
  const setup = driver("c.json", "setup", "1", "Ceremony election", "ceremony");
  const id = setup.election_id;
  const page = await newPage();
  try {
    await register(page, id, setup.codes[0]);
    await page.locator("#registered").waitFor();
    driver("c.json", "freeze");
    driver("c.json", "open");
    await go(page, `#/e/${id}/vote`);
    await page.locator("#credential-ok").waitFor();
    await page.check("#c0o0");
    const code = await prepare(page);
    await page.click("#cast");
    await page.locator("#verified-0").waitFor({ timeout: 60_000 });
    assert.equal((await page.textContent(".receipt .code")).trim(), code);
    await shot(page, "17-ceremony-election-receipt");
    const status = await (await fetch(`${URL_}/v1/elections/${id}`)).json();
    await go(page, `#/e/${id}/board/${status.manifest_index}`);
    await page.locator("#board-table").waitFor();
    const board = await page.textContent("#board-table");
    assert.ok(board.includes("setup ceremony closed"), board);
    assert.ok(board.includes(code));
    await shot(page, "18-ceremony-board");
    assert.deepEqual(page.external, [], "no request leaves the board");
  } catch (e) { await failShots(); throw e; }
});

test("timing: click to ballot ready (depth 20)", { skip: !TIMING }, async () => {
  const setup = driver("t.json", "setup", "2", "Timing election");
  const id = setup.election_id;
  const page = await newPage();
  await register(page, id, setup.codes[0]);
  await page.locator("#registered").waitFor();
  driver("t.json", "freeze");
  driver("t.json", "open");
  const timings = {};
  // First visit: empty cache; the worker downloads, hashes and loads the key.
  await go(page, `#/e/${id}/vote`);
  await page.check("#c0o0");
  await prepare(page);
  timings.firstVisit = await page.evaluate(() => window.urnaTimings);
  // Same page again: the key is in the worker's memory.
  await prepare(page);
  timings.keyInMemory = await page.evaluate(() => window.urnaTimings);
  const runs = [];
  for (let i = 0; i < 3; i++) {
    // A new visit: new page and worker, key from the Cache API.
    await go(page, `#/e/${id}/vote`);
    await page.reload();
    await page.waitForFunction(() => !document.querySelector("#view")?.textContent.startsWith("Loading"));
    await page.check("#c0o0");
    await prepare(page);
    runs.push(await page.evaluate(() => window.urnaTimings));
  }
  timings.cachedKey = runs;
  timings.chromium = browser.version();
  console.log("URNA_TIMINGS " + JSON.stringify(timings));
  writeFileSync(join(RESULTS, "timings.json"), JSON.stringify(timings, null, 2));
  await shot(page, "timing-ballot-ready");
});
