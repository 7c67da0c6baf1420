import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { writePlugins } from "../plugins/fixture-plugins.ts";
import { eventually, startTestHub, type TestHub } from "../helpers/test-hub.ts";
import { githubSignature, wechatpayNotification } from "./provider-vectors.ts";

// The worked examples of docs/inbound-webhooks.md, run as written: its plugin code blocks become
// plugins, its bodies are posted, signed by each provider's scheme.
const doc = readFileSync(new URL("../../docs/inbound-webhooks.md", import.meta.url), "utf8");

function section(title: string): string {
  const start = doc.indexOf(`## ${title}`);
  assert.ok(start >= 0, `docs/inbound-webhooks.md has a section "${title}"`);
  const end = doc.indexOf("\n## ", start + 3);
  return doc.slice(start, end < 0 ? undefined : end);
}

function codeBlock(text: string, language: string): string {
  const match = new RegExp("```" + language + "\\n([\\s\\S]*?)```").exec(text);
  assert.ok(match?.[1], `a ${language} block`);
  return match[1];
}

const transform = (code: string) => ({ manifest: { version: "1.0.0", kind: "transform", entry: "index.ts" }, files: { "index.ts": code } });
const plugins = writePlugins({ "github-issues": transform(codeBlock(section("3. Write the transform plugin"), "ts")), "wechatpay-refunds": transform(codeBlock(section("6. Worked example"), "ts")) });

let hub: TestHub;
before(async () => {
  hub = await startTestHub({ pluginsDir: plugins.dir, pluginWatch: false });
});
after(async () => {
  await hub.close();
  plugins.remove();
});

async function eventOf(deliveryId: string): Promise<{ type: string; source: string; data: Record<string, unknown> }> {
  return eventually(async () => {
    const response = await hub.request(`/v1/events/${deliveryId}.0`, { scope: "read" });
    return response.status === 200 ? ((await response.json()) as { event: { type: string; source: string; data: Record<string, unknown> } }).event : undefined;
  }, 5000, `the event of ${deliveryId}`);
}

test("GitHub-style HMAC: the documented issue becomes ticket.created; sent again it is a replay", async () => {
  const secret = "It's a Secret to Everybody";
  const put = await hub.request("/v1/inbound-sources/github", { method: "PUT", json: { verifier: { type: "hmac", secret, header: "x-hub-signature-256", prefix: "sha256=" }, transform: { plugin: "github-issues" }, dedupe: { header: "x-github-delivery" } } });
  assert.equal(put.status, 201);
  const body = /^body='(.*)'$/m.exec(section("5. Worked example: GitHub-style HMAC"))?.[1] ?? "";
  const headers = { "content-type": "application/json", "x-github-event": "issues", "x-github-delivery": randomUUID(), "x-hub-signature-256": githubSignature(secret, body) };
  const response = await fetch(`${hub.url}/v1/inbound/github`, { method: "POST", headers, body });
  assert.equal(response.status, 202);
  const { id } = (await response.json()) as { id: string };
  const event = await eventOf(id);
  assert.deepEqual([event.type, event.source, event.data["ticketId"], event.data["subject"]], ["ticket.created", "github", "GH-42", "退款还没到账"]);
  const again = await fetch(`${hub.url}/v1/inbound/github`, { method: "POST", headers, body });
  assert.equal(again.status, 401);
  assert.equal(((await again.json()) as { check: string }).check, "replay");
});

test("WeChat Pay: the documented source answers 204 with no body, and the refund becomes order.updated; a retry is a duplicate", async () => {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048, publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } });
  const apiV3Key = randomBytes(16).toString("hex");
  const put = await hub.request("/v1/inbound-sources/wechatpay", { method: "PUT", json: { verifier: { type: "wechatpay-v3", platformPublicKey: publicKey, apiV3Key }, transform: { plugin: "wechatpay-refunds" }, dedupe: { path: "$.id" }, response: { status: 204 } } });
  assert.equal(put.status, 201);
  const refund = { out_trade_no: "SO-100003", refund_status: "SUCCESS", amount: { refund: 12990, total: 12990 } };
  const now = Math.floor(Date.now() / 1000);
  const notice = wechatpayNotification(privateKey, apiV3Key, refund, now);
  const post = (n: typeof notice): Promise<Response> => fetch(`${hub.url}/v1/inbound/wechatpay`, { method: "POST", headers: { "content-type": "application/json", ...n.headers }, body: n.body });
  const response = await post(notice);
  assert.equal(response.status, 204);
  assert.equal(await response.text(), "");
  const [delivery] = ((await (await hub.request("/v1/inbound-deliveries")).json()) as { items: { id: string; source: string }[] }).items.filter((d) => d.source === "wechatpay");
  const event = await eventOf(String(delivery?.id));
  assert.deepEqual([event.type, event.data["orderId"], event.data["status"], (event.data["changes"] as { refundFen: number }).refundFen], ["order.updated", "SO-100003", "refunded", 12990]);
  // WeChat Pay's retry: the same notification id under a new nonce and signature.
  const retry = await post(wechatpayNotification(privateKey, apiV3Key, refund, now));
  assert.equal(retry.status, 204);
  const sources = ((await (await hub.request("/v1/inbound-deliveries")).json()) as { items: { source: string }[] }).items.filter((d) => d.source === "wechatpay");
  assert.equal(sources.length, 1, "the retry was not stored again");
});
