import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { eventually, startTestHub, TEST_KEYS, type TestHub } from "../helpers/test-hub.ts";

// Swagger UI in a real headless Chromium, driven over the DevTools protocol: "Authorize" with a key,
// then "Try it out" → "Execute" on GET /v1/whoami. Skipped where Debian's chromium is not installed.
const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((path) => existsSync(path));

interface Cdp {
  send<T = unknown>(method: string, params?: Record<string, unknown>): Promise<T>;
  close(): void;
}

async function connect(wsUrl: string): Promise<Cdp> {
  const socket = new WebSocket(wsUrl);
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve, { once: true });
    socket.addEventListener("error", reject, { once: true });
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  socket.addEventListener("message", (event: { data: unknown }) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string } };
    const waiter = message.id === undefined ? undefined : pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id as number);
    if (message.error) waiter.reject(new Error(message.error.message));
    else waiter.resolve(message.result);
  });
  return {
    send<T>(method: string, params: Record<string, unknown> = {}) {
      const id = nextId++;
      socket.send(JSON.stringify({ id, method, params }));
      return new Promise<T>((resolve, reject) => pending.set(id, { resolve: resolve as (v: unknown) => void, reject }));
    },
    close: () => socket.close(),
  };
}

let hub: TestHub;
let browser: ChildProcess | undefined;
let profileDir: string;
let page: Cdp;

async function evaluate<T>(expression: string): Promise<T> {
  const reply = await page.send<{ result: { value: T }; exceptionDetails?: unknown }>("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true });
  if (reply.exceptionDetails) throw new Error(`evaluation failed: ${JSON.stringify(reply.exceptionDetails)}`);
  return reply.result.value;
}

before(async () => {
  if (!CHROMIUM) return;
  hub = await startTestHub();
  profileDir = mkdtempSync(join(tmpdir(), "kefu-chromium-"));
  browser = spawn(CHROMIUM, [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", `--user-data-dir=${profileDir}`, "--remote-debugging-port=0", "about:blank",
  ], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  browser.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const browserWs = await eventually(() => stderr.match(/DevTools listening on (ws:\/\/\S+)/)?.[1], 15_000, "Chromium's DevTools endpoint");
  const { port } = new URL(browserWs);
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { type: string; webSocketDebuggerUrl: string }[];
  const target = targets.find((t) => t.type === "page");
  assert.ok(target, "a page target");
  page = await connect(target.webSocketDebuggerUrl);
  await page.send("Page.enable");
  await page.send("Runtime.enable");
});

after(async () => {
  try {
    page?.close();
    if (browser && browser.exitCode === null && browser.signalCode === null) {
      const exited = once(browser, "exit");
      browser.kill("SIGKILL");
      await exited;
    }
  } finally {
    await hub?.close();
    // Chromium's helper processes (crashpad) may still be writing to the profile for a moment; a
    // temporary directory left behind must not fail the run.
    if (profileDir) {
      try {
        rmSync(profileDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
      } catch (error) {
        console.warn(`could not remove ${profileDir}: ${(error as Error).message}`);
      }
    }
  }
});

test("Swagger UI: Authorize with a key, then Try it out on GET /v1/whoami answers 200", { skip: CHROMIUM ? false : "no Chromium here", timeout: 60_000 }, async () => {
  await page.send("Page.navigate", { url: `${hub.url}/docs/` });
  await eventually(() => evaluate<boolean>("!!document.querySelector('#operations-auth-whoAmI')"), 20_000, "the whoami operation to render");

  await evaluate(`ui.authActions.authorize({ bearerAuth: { name: "bearerAuth", schema: { type: "http", scheme: "bearer" }, value: ${JSON.stringify(TEST_KEYS.read)} } })`);
  await evaluate("document.querySelector('#operations-auth-whoAmI .opblock-summary-control').click()");
  await eventually(() => evaluate<boolean>("!!document.querySelector('#operations-auth-whoAmI .try-out__btn')"), 10_000, "Try it out");
  // The hub turns tryItOutEnabled on, so operations open ready to execute; the button then reads "Cancel".
  assert.equal(await evaluate<string>("document.querySelector('#operations-auth-whoAmI .try-out__btn').textContent.trim()"), "Cancel");
  await eventually(() => evaluate<boolean>("!!document.querySelector('#operations-auth-whoAmI .execute')"), 10_000, "Execute");
  await evaluate("document.querySelector('#operations-auth-whoAmI .execute').click()");

  const status = await eventually(
    () => evaluate<string | undefined>("document.querySelector('#operations-auth-whoAmI .live-responses-table tr.response .response-col_status')?.textContent?.trim() || undefined"),
    15_000,
    "the live response",
  );
  const body = await evaluate<string>("document.querySelector('#operations-auth-whoAmI .live-responses-table .microlight')?.textContent ?? ''");
  if (process.env["KEFU_SCREENSHOT"]) {
    const shot = await page.send<{ data: string }>("Page.captureScreenshot", { format: "png", captureBeyondViewport: true });
    writeFileSync(process.env["KEFU_SCREENSHOT"], Buffer.from(shot.data, "base64"));
  }
  assert.equal(status, "200");
  assert.match(body, /"scopes"/);
  assert.match(body, /"read"/);
});
