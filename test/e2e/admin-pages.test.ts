import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { postEvent, subscribe, ticketCreated } from "../delivery/fixtures.ts";
import { CHROMIUM, launchChromium, type Browser, type Page } from "../helpers/chromium.ts";
import { eventually, startTestHub, TEST_KEYS, type TestHub } from "../helpers/test-hub.ts";

// The admin pages in a real headless Chromium (issue 15): the sign-in form, bull-board listing the
// delivery queue with jobs. Screenshots go to a temp dir (their paths are printed).
const SKIP = CHROMIUM ? false : "no Chromium here (/usr/bin/chromium): apt-get install chromium; CI installs it";

let hub: TestHub;
let browser: Browser;
let page: Page;
const shots = CHROMIUM ? mkdtempSync(join(tmpdir(), "kefu-admin-pages-")) : "";

before(async () => {
  if (!CHROMIUM) return;
  // No workers: the jobs stay queued, so that the board has something to list.
  hub = await startTestHub({ deliveryWorkers: false, deliveryAllowCidrs: ["127.0.0.0/8"] });
  await subscribe(hub, "http://127.0.0.1:9/hook");
  for (const priority of ["urgent", "high", "normal", "low"]) await postEvent(hub, ticketCreated({ priority }));
  browser = await launchChromium(CHROMIUM);
  page = await browser.newPage({ width: 1280, height: 800 });
});

after(async () => {
  await browser?.close();
  await hub?.close();
});

const waitFor = <T>(expression: string, what: string, timeoutMs = 15_000): Promise<T> =>
  eventually(() => page.evaluate<T>(expression), timeoutMs, `${what}; page log: ${page.logs.slice(-5).join(" | ")}`);
const shoot = async (name: string): Promise<string> => {
  const path = join(shots, `${name}.png`);
  await page.screenshot(path);
  console.log(`screenshot: ${path}`);
  return path;
};
/** Types `key` into the sign-in form and submits it, as a person would. */
const signInWith = async (key: string): Promise<void> => {
  await page.page.fill("#key", key);
  await page.page.click("#sign-in [type=submit]");
};

test("sign in through the form, refused with a read key first, then bull-board lists the delivery queue", { skip: SKIP, timeout: 60_000 }, async () => {
  await page.navigate(`${hub.url}/admin/queues`);
  await waitFor(`location.pathname === "/admin" && !!document.getElementById("sign-in")`, "the redirect to the sign-in form");
  assert.equal(await page.evaluate<string>("location.search"), "?next=%2Fadmin%2Fqueues");

  await signInWith(TEST_KEYS.read);
  await waitFor(`document.getElementById("problem")?.dataset.field === "key"`, "the read key to be refused");
  assert.match(await page.evaluate<string>(`document.getElementById("problem").textContent`), /read key; the browser pages need an admin key/);
  await shoot("1-sign-in-refused-read-key");

  await signInWith(TEST_KEYS.admin);
  await waitFor(`location.pathname === "/admin/queues"`, "the board after signing in");
  // The SPA lists the queue, then shows its jobs once opened.
  await waitFor(`document.body.innerText.includes("delivery")`, "the delivery queue on the board");
  await page.navigate(`${hub.url}/admin/queues/queue/delivery?status=prioritized`);
  await waitFor(`document.body.innerText.includes("ticket.created") || document.body.innerText.includes("evt_")`, "the queued delivery jobs");
  await shoot("2-bull-board-delivery-queue");
  const text = await page.evaluate<string>("document.body.innerText");
  assert.doesNotMatch(text, /\bRetry all\b|\bClean all\b/, "read-only: no retry or clean buttons");
});

test("typing /godmode in the agent console opens the live memory map for an admin, sends nothing, and the numbers move", { skip: SKIP, timeout: 90_000 }, async () => {
  const agent = await browser.newPage({ width: 1280, height: 800 });
  const godmodeIn = (expression: string): string => `(() => { const tab = window.kefuDemo.godmodeTab; return !!tab && !tab.closed && tab.location.pathname === "/godmode" && (${expression}); })()`;
  // Typed and sent with a real click: the user activation the browser requires before a page opens a tab.
  const typeCommand = async (text: string): Promise<void> => {
    await agent.page.fill("#text", text);
    await agent.page.click("#send");
  };
  const useKey = async (key: string): Promise<void> => {
    await agent.page.fill("#key", key);
    await agent.page.click("#connect");
  };
  const waitAgent = <T>(expression: string, what: string, timeoutMs = 15_000): Promise<T> =>
    eventually(() => agent.evaluate<T>(expression), timeoutMs, `${what}; page log: ${agent.logs.slice(-5).join(" | ")}`);

  // A read key: refused, nothing opened, nothing sent.
  await agent.navigate(`${hub.url}/demo/agent`);
  await useKey(TEST_KEYS.read);
  await typeCommand("/godmode");
  await waitAgent(`document.getElementById("problem").textContent.includes("/godmode needs an admin key")`, "the read key to be refused");
  assert.equal(await agent.evaluate<boolean>(`!window.kefuDemo.godmodeTab || window.kefuDemo.godmodeTab.closed`), true);

  // An admin key: the map opens in its own tab; the chat log holds no message.
  await useKey(TEST_KEYS.admin);
  await typeCommand("/godmode");
  await waitAgent(godmodeIn(`Number(tab.document.getElementById("samples")?.dataset.count) >= 1`), "/godmode to open and draw", 20_000);
  assert.equal(await agent.evaluate<number>(`document.querySelectorAll("#log .msg").length`), 0, "/godmode is not sent as a message");
  assert.equal(await agent.evaluate<string>(`document.getElementById("text").value`), "");
  const history = (await hub.request("/v1/sessions/S-demo-1/messages?limit=10")).status;
  assert.ok(history === 404 || history === 200, "no session was needed");

  // The same browser holds the session cookie now: open /godmode in a tab the test drives, watch it move.
  const map = await browser.newPage({ width: 1280, height: 900 });
  await map.navigate(`${hub.url}/godmode`);
  const read = (): Promise<{ count: number; at: string; rss: number; heap: number; boxes: number; stores: number; isolates: number }> =>
    map.evaluate(`({ count: Number(document.getElementById("samples").dataset.count), at: document.getElementById("samples").dataset.at ?? "",
      rss: Number(document.getElementById("rss").dataset.bytes), heap: Number(document.getElementById("heap-used").dataset.bytes),
      boxes: document.querySelectorAll("#treemap .node").length, stores: document.querySelectorAll("#stores tbody tr").length,
      isolates: document.querySelectorAll("#isolates tbody tr").length })`);
  const first = await eventually(async () => ((await read()).count >= 2 ? read() : undefined), 20_000, `two samples on /godmode; page log: ${map.logs.slice(-5).join(" | ")}`);
  const later = await eventually(async () => {
    const now = await read();
    return now.count >= first.count + 2 ? now : undefined;
  }, 20_000, "two more samples");
  assert.notEqual(later.at, first.at);
  assert.ok(later.rss !== first.rss || later.heap !== first.heap, `the numbers move: ${JSON.stringify(first)} → ${JSON.stringify(later)}`);
  assert.ok(later.boxes >= 8, `a treemap of ${later.boxes} boxes`);
  assert.ok(later.stores >= 8 && later.isolates >= 1, `${later.stores} stores, ${later.isolates} isolates`);
  assert.equal(await map.evaluate<string>(`document.getElementById("status").dataset.state`), "live");
  const path = join(shots, "3-godmode.png");
  await map.screenshot(path);
  console.log(`screenshot: ${path}`);
});
