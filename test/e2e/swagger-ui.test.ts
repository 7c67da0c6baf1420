import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { CHROMIUM, launchChromium, type Browser, type Page } from "../helpers/chromium.ts";
import { eventually, TEST_KEYS } from "../helpers/test-hub.ts";
import { startTestHubWithDemo, type TestHubWithDemo } from "../helpers/test-hub-with-demo.ts";

// Swagger UI in a real headless Chromium: "Authorize" with a key, then "Try it out" → "Execute" on
// GET /v1/whoami, on the order context with the document's example ids as they are filled in, and on
// the signed demo inbound push. Skipped where Debian's chromium is not installed.
let hub: TestHubWithDemo;
let browser: Browser;
let tab: Page;

const evaluate = <T>(expression: string): Promise<T> => tab.evaluate<T>(expression);

before(async () => {
  if (!CHROMIUM) return;
  // With the demo business system, as under npm start, so that the examples' ids can be found.
  hub = await startTestHubWithDemo();
  browser = await launchChromium(CHROMIUM);
  tab = await browser.newPage({ width: 1280, height: 900 });
});

after(async () => {
  try {
    await browser?.close();
  } finally {
    await hub?.close();
  }
});

test("Swagger UI: Authorize with a key, then Try it out on GET /v1/whoami answers 200", { skip: CHROMIUM ? false : "no Chromium here", timeout: 60_000 }, async () => {
  await tab.navigate(`${hub.url}/docs/`);
  await eventually(() => evaluate<boolean>("!!document.querySelector('#operations-auth-whoAmI')"), 20_000, "the whoami operation to render");

  await evaluate(`ui.authActions.authorize({ bearerAuth: { name: "bearerAuth", schema: { type: "http", scheme: "bearer" }, value: ${JSON.stringify(TEST_KEYS.read)} } })`);
  await tab.page.click("#operations-auth-whoAmI .opblock-summary-control");
  await eventually(() => evaluate<boolean>("!!document.querySelector('#operations-auth-whoAmI .try-out__btn')"), 10_000, "Try it out");
  // The hub turns tryItOutEnabled on, so operations open ready to execute; the button then reads "Cancel".
  assert.equal(await evaluate<string>("document.querySelector('#operations-auth-whoAmI .try-out__btn').textContent.trim()"), "Cancel");
  await eventually(() => evaluate<boolean>("!!document.querySelector('#operations-auth-whoAmI .execute')"), 10_000, "Execute");
  await tab.page.click("#operations-auth-whoAmI .execute");

  const status = await eventually(
    () => evaluate<string | undefined>("document.querySelector('#operations-auth-whoAmI .live-responses-table tr.response .response-col_status')?.textContent?.trim() || undefined"),
    15_000,
    "the live response",
  );
  const body = await evaluate<string>("document.querySelector('#operations-auth-whoAmI .live-responses-table .microlight')?.textContent ?? ''");
  if (process.env["KEFU_SCREENSHOT"]) {
    await tab.page.screenshot({ path: process.env["KEFU_SCREENSHOT"], fullPage: true });
  }
  assert.equal(status, "200");
  assert.match(body, /"scopes"/);
  assert.match(body, /"read"/);
});

/** Opens an operation, executes it with what Swagger UI filled in, and answers the live status and body. */
async function execute(operation: string): Promise<{ status: string; body: string; url: string }> {
  const root = `#operations-${operation}`;
  await eventually(() => evaluate<boolean>(`!!document.querySelector('${root}')`), 20_000, `${operation} to render`);
  await tab.page.click(`${root} .opblock-summary-control`);
  await eventually(() => evaluate<boolean>(`!!document.querySelector('${root} .execute')`), 10_000, "Execute");
  // On a loaded machine Swagger UI can render Execute before it has copied the examples into the
  // request; a click then fails its own required-field check and sends nothing.
  await eventually(() => evaluate<boolean>(`[...document.querySelectorAll('${root} textarea.body-param__text')].every((t) => t.value.trim() !== '')`), 10_000, `the example body of ${operation}`);
  await tab.page.click(`${root} .execute`);
  const status = await eventually(
    () => evaluate<string | undefined>(`document.querySelector('${root} .live-responses-table tr.response .response-col_status')?.textContent?.trim() || undefined`),
    15_000,
    `the live response of ${operation}`,
  ).catch(async (error: unknown) => {
    const shown = await evaluate<string>(`[...document.querySelectorAll('${root} .validation-errors, ${root} .invalid, ${root} .loading-container')].map((e) => e.className + ': ' + e.textContent).join(' | ')`);
    throw new Error(`${String(error)}; the operation shows: ${shown || "nothing unusual"}`);
  });
  const body = await evaluate<string>(`document.querySelector('${root} .live-responses-table .microlight')?.textContent ?? ''`);
  const url = await evaluate<string>(`document.querySelector('${root} .request-url pre')?.textContent ?? ''`);
  return { status, body, url };
}

test("Swagger UI: Try it out on the order context and the customer, as filled in, answers 200 from the demo", { skip: CHROMIUM ? false : "no Chromium here", timeout: 60_000 }, async () => {
  await tab.navigate(`${hub.url}/docs/`);
  await eventually(() => evaluate<boolean>("!!document.querySelector('#operations-context-getOrderContext')"), 20_000, "the context operations to render");
  await evaluate(`ui.authActions.authorize({ bearerAuth: { name: "bearerAuth", schema: { type: "http", scheme: "bearer" }, value: ${JSON.stringify(TEST_KEYS.read)} } })`);

  const context = await execute("context-getOrderContext");
  assert.equal(context.status, "200", context.body);
  const answer = JSON.parse(context.body) as { orderId: string; order: { customerId: string } | null; degraded: unknown[] };
  assert.ok(answer.order, "the example order exists in the demo");
  assert.deepEqual(answer.degraded, [], "and so do its parts");
  const sent = new URL(context.url);
  assert.equal(sent.searchParams.get("customerId"), answer.order.customerId, `the example customerId of ${context.url} is the order's own customer`);

  const customer = await execute("context-getCustomer");
  assert.equal(customer.status, "200", customer.body);
});

test("Swagger UI: Try it out on POST /v1/inbound/{source} sends the signed demo push, answered 202, then 401 replay", { skip: CHROMIUM ? false : "no Chromium here", timeout: 60_000 }, async () => {
  await hub.hub.startDemoInbound(hub.url);
  await tab.navigate(`${hub.url}/docs/`);
  await eventually(() => evaluate<boolean>("!!document.querySelector('#operations-inbound-postInboundWebhook')"), 20_000, "the inbound operations to render");
  const first = await execute("inbound-postInboundWebhook");
  const curl = await evaluate<string>("document.querySelector('#operations-inbound-postInboundWebhook .curl-command')?.textContent ?? ''");
  assert.equal(first.status, "202", `${first.body}\n${curl}`);
  assert.match(first.body, /"duplicate": false/);
  await tab.page.click("#operations-inbound-postInboundWebhook .execute");
  await eventually(async () => (await evaluate<string>("document.querySelector('#operations-inbound-postInboundWebhook .live-responses-table .microlight')?.textContent ?? ''")).includes("replay"), 15_000, "the replayed push's 401");
});
