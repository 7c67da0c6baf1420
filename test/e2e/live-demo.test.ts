import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { CHROMIUM, launchChromium, type Browser, type Page } from "../helpers/chromium.ts";
import { startTestHubWithDemo, type TestHubWithDemo } from "../helpers/test-hub-with-demo.ts";
import { eventually, TEST_KEYS } from "../helpers/test-hub.ts";

// The demo console (/demo/visitor, /demo/agent) in a real headless Chromium against a hub with the
// demo sessions and their behaviour: chat both ways, a visitor offline while the agent writes, the
// risk level turning high live. Screenshots go to a temp dir (their paths are printed).
const SKIP = CHROMIUM ? false : "no Chromium here (/usr/bin/chromium): apt-get install chromium; CI installs it";

let hub: TestHubWithDemo;
let browser: Browser;
let visitor: Page;
let agent: Page;
const shots = CHROMIUM ? mkdtempSync(join(tmpdir(), "kefu-live-demo-")) : "";

before(async () => {
  if (!CHROMIUM) return;
  hub = await startTestHubWithDemo();
  hub.hub.startDemoBehavior();
  browser = await launchChromium(CHROMIUM);
  [visitor, agent] = await Promise.all([browser.newPage({ width: 900, height: 700 }), browser.newPage({ width: 1280, height: 860 })]);
});

after(async () => {
  await browser?.close();
  await hub?.close();
});

/** Types into the fields (id → value) and clicks the form's submit button, as a person would. */
const fill = async ({ page }: Page, fields: Record<string, string>, form: string): Promise<void> => {
  for (const [id, value] of Object.entries(fields)) await page.fill(`#${id}`, value);
  await page.click(`#${form} [type=submit]`);
};
const say = (page: Page, text: string): Promise<unknown> => fill(page, { text }, "compose");
/** The texts of the chat log's delivered (not pending) messages, in offset order as shown. */
const shown = (page: Page): Promise<{ offset: number; text: string }[]> =>
  page.evaluate(`[...document.querySelectorAll("#log .msg[data-offset]")].map((m) => ({ offset: Number(m.dataset.offset), text: m.firstChild.textContent }))`);
const waitFor = <T>(page: Page, expression: string, what: string, timeoutMs = 10_000): Promise<T> =>
  eventually(() => page.evaluate<T>(expression), timeoutMs, `${what}; page log: ${page.logs.slice(-5).join(" | ")}`);
const shoot = async (page: Page, name: string): Promise<void> => {
  const path = join(shots, `${name}.png`);
  await page.screenshot(path);
  console.log(`screenshot: ${path}`);
};
const showsText = (text: string): string => `[...document.querySelectorAll("#log .msg[data-offset]")].some((m) => m.firstChild.textContent === ${JSON.stringify(text)})`;

test("the demo console: visitor and agent chat, the visitor resumes losslessly after going offline, the risk turns high live", { skip: SKIP, timeout: 60_000 }, async () => {
  await eventually(async () => (await hub.request("/v1/sessions/S-demo-1")).status === 200, 10_000, "the demo session S-demo-1 to open");

  await visitor.navigate(`${hub.url}/demo/visitor`);
  await fill(visitor, { key: TEST_KEYS.admin, customer: "C-0001", sessions: "S-demo-1" }, "settings");
  await waitFor(visitor, `document.getElementById("status").dataset.state === "open"`, "the visitor to connect");

  await agent.navigate(`${hub.url}/demo/agent`);
  await fill(agent, { key: TEST_KEYS.admin, agent: "A-demo", session: "S-demo-1" }, "settings");
  await waitFor(agent, `document.getElementById("status").dataset.state === "open"`, "the agent to connect");
  assert.equal(await waitFor<string>(agent, `document.getElementById("risk-level")?.dataset.level`, "the session context"), "low");
  await waitFor(agent, `!!document.getElementById("order-facts")`, "the order context of SO-100003");

  // The visitor writes, the agent sees it and replies, the visitor sees the reply.
  await say(visitor, "Hi, where is my order SO-100003?");
  await waitFor(agent, showsText("Hi, where is my order SO-100003?"), "the agent to see the visitor's message");
  await say(agent, "Hello! It left our warehouse this morning; let me check the carrier.");
  await waitFor(visitor, showsText("Hello! It left our warehouse this morning; let me check the carrier."), "the visitor to see the reply");
  await shoot(visitor, "1-visitor-chat");
  await shoot(agent, "1-agent-chat-risk-low");

  // The visitor's network goes away (its socket with it) while the agent writes three more.
  await visitor.cdp.send("Network.enable");
  await visitor.cdp.send("Network.emulateNetworkConditions", { offline: true, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await visitor.evaluate("window.kefuDemo.live.socket?.close()");
  await waitFor(visitor, `document.getElementById("status").dataset.state !== "open"`, "the visitor to be offline");
  const missed = ["The carrier says it is in Hangzhou.", "It should arrive tomorrow before noon.", "Anything else I can help with?"];
  for (const text of missed) await say(agent, text);
  await waitFor(agent, `${missed.map(showsText).join(" && ")} && !document.querySelector("#log .msg.pending")`, "the agent's three messages to be acked");
  // Still offline: the reconnect attempts fail (the token fetch and the socket both need the network).
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.notEqual(await visitor.evaluate<string>(`document.getElementById("status").dataset.state`), "open");
  assert.equal(await visitor.evaluate<boolean>(missed.map(showsText).join(" || ")), false, "nothing reached the visitor while offline");
  await shoot(visitor, "2-visitor-offline");

  await visitor.cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await waitFor(visitor, missed.map(showsText).join(" && "), "the visitor to get the three messages it missed", 20_000);
  await shoot(visitor, "3-visitor-resumed");

  // Nothing missing, nothing doubled: the visitor shows exactly the session's history, in order.
  const history = (await (await hub.request("/v1/sessions/S-demo-1/messages?limit=200")).json()) as { items: { offset: number; data: { kind: string; text: string } }[] };
  const expected = history.items.filter((item) => item.data.kind === "message").reverse().map(({ offset, data }) => ({ offset, text: data.text }));
  assert.equal(expected.length, 5);
  assert.deepEqual(await shown(visitor), expected);
  assert.deepEqual(await shown(agent), expected);

  // Three failed payments within ten minutes: the risk level turns high on the agent's page, live.
  const now = Date.now();
  const failures = [0, 1, 2].map((i) => ({ id: `e2e-pay-${now}-${i}`, customerId: "C-0001", type: "payment.failed", occurredAt: new Date(now + i).toISOString(), data: { orderId: "SO-100003", reason: "card_declined" } }));
  const posted = await hub.request("/v1/behavior-events", { method: "POST", json: { events: failures } });
  assert.equal(posted.status, 200);
  await waitFor(agent, `document.getElementById("risk-level").dataset.level === "high"`, "the risk badge to turn high");
  assert.match(await agent.evaluate<string>(`document.querySelector(".risk-line .reasons").textContent`), /repeated-payment-failures/);
  await agent.evaluate(`document.getElementById("refresh-order").click()`);
  await waitFor(agent, `!document.getElementById("refresh-order").disabled && !!document.getElementById("order-facts")`, "the order context to refresh");
  await shoot(agent, "4-agent-risk-high");
  await agent.evaluate(`document.querySelector(".side").scrollTop = 1e6`);
  await shoot(agent, "5-agent-order-context");
});
