import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import { expectProblem } from "../helpers/problem.ts";
import { captureLogs, deleteKeys, eventually } from "../helpers/test-hub.ts";
import { hmacSource, SECRET, startInboundHub, type InboundHub } from "./helpers.ts";

let a: InboundHub;
let b: InboundHub;
const logs = captureLogs("debug");
before(async () => {
  a = await startInboundHub({}, { logger: logs.logger });
  b = await startInboundHub({}, { prefix: a.prefix, keepKeys: true });
});
after(async () => {
  await b.close();
  await a.close();
  await deleteKeys(a.prefix);
});

test("PUT creates (201) and replaces (200); GET and the list never show secrets or keys", async () => {
  const created = await a.request("/v1/inbound-sources/github", { method: "PUT", json: hmacSource({ description: "GitHub pushes" }) });
  assert.equal(created.status, 201);
  const body = (await created.json()) as { name: string; verifier: Record<string, unknown>; createdAt: string };
  assert.deepEqual(body.verifier, { type: "hmac", header: "x-signature", prefix: "sha256=", secretSet: true });
  assert.equal((await a.request("/v1/inbound-sources/github", { method: "PUT", json: hmacSource() })).status, 200);

  const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048, publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } });
  const apiV3Key = randomBytes(16).toString("hex");
  await a.putSource("wechatpay", { verifier: { type: "wechatpay-v3", platformPublicKey: publicKey, apiV3Key }, transform: { plugin: "test-transform" }, dedupe: { path: "$.id" }, response: { status: 204 } });
  const text = await (await a.request("/v1/inbound-sources")).text();
  for (const secret of [SECRET, apiV3Key, publicKey.split("\n")[1] ?? "x"]) assert.ok(!text.includes(secret), "a secret or key is in the list");
  assert.match(text, /"apiV3KeySet":true/);
  const logged = JSON.stringify(logs.lines);
  for (const secret of [SECRET, apiV3Key]) assert.ok(!logged.includes(secret), "a secret was logged");
});

test("two transform plugins are not a setup problem: each source names its own", async () => {
  const response = await fetch(`${a.url}/readyz`);
  assert.equal(response.status, 200);
  const { checks } = (await response.json()) as { checks: Record<string, string> };
  assert.equal(checks["plugins"], "ok");
  assert.ok(!JSON.stringify(logs.lines).includes("transform calls fail"), "no warning about the transform kind");
});

test("invalid sources are refused with the failing fields", async () => {
  const none = await expectProblem(await a.request("/v1/inbound-sources/open", { method: "PUT", json: { verifier: { type: "none" }, transform: { plugin: "test-transform" } } }), 400, "validation_failed");
  assert.ok(none.errors?.some((error) => error.pointer.includes("dangerouslyUnverified")), JSON.stringify(none.errors));
  await expectProblem(await a.request("/v1/inbound-sources/Bad.Name", { method: "PUT", json: hmacSource() }), 400, "validation_failed");
  await expectProblem(await a.request("/v1/inbound-sources/x", { method: "PUT", json: { verifier: { type: "standard-webhooks", secret: "whsec_" + "!".repeat(10) }, transform: { plugin: "p" } } }), 400, "validation_failed");
  await expectProblem(await a.request("/v1/inbound-sources/x", { method: "PUT", json: { verifier: { type: "hmac", secret: SECRET, header: "x-s", signed: "timestamp.body" }, transform: { plugin: "p" } } }), 400, "validation_failed");
  await expectProblem(await a.request("/v1/inbound-sources/x", { method: "PUT", json: hmacSource({ response: { status: 302 } }) }), 400, "validation_failed");
  await expectProblem(await a.request("/v1/inbound-sources/x", { method: "PUT", json: hmacSource(), scope: "ingest" }), 403, "forbidden");
  await expectProblem(await a.request("/v1/inbound-sources/x", { method: "GET" }), 404, "not_found");
});

test("a source written on one instance is used by the other at once; a deleted one is 404 there", async () => {
  await a.putSource("shared", hmacSource());
  const body = JSON.stringify({ orderId: "SO-100003", n: randomBytes(4).toString("hex") });
  await eventually(async () => (await b.post("shared", body)).status === 202, 2000, "instance b to accept the new source");
  const deleted = await a.request("/v1/inbound-sources/shared", { method: "DELETE" });
  assert.equal(deleted.status, 204);
  await eventually(async () => (await b.post("shared", JSON.stringify({ orderId: "SO-100003" }))).status === 404, 2000, "instance b to forget it");
  await expectProblem(await a.request("/v1/inbound-sources/shared", { method: "DELETE" }), 404, "not_found");
});
