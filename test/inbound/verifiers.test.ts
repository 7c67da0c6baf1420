import assert from "node:assert/strict";
import { createHmac, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { test } from "node:test";
import { Webhook } from "standardwebhooks";
import type { VerifierSettings } from "../../src/inbound/inbound-source.ts";
import { signedContent } from "../../src/inbound/verifiers/alipay-rsa2.ts";
import { wechatpayNotification } from "./provider-vectors.ts";
import { isVerificationFailure, openBody, settingsProblem, verifyDelivery, type InboundRequest, type VerificationCheck } from "../../src/inbound/verifiers/index.ts";

// Vectors made by each provider's own scheme, with keys generated here.
const NOW = 1_764_662_400; // 2025-12-02T08:00:00Z

function request(body: string, headers: Record<string, string>, parsed: unknown = JSON.parse(body)): InboundRequest {
  return { raw: Buffer.from(body), headers, body: parsed };
}

function refusedWith(settings: VerifierSettings, req: InboundRequest, check: VerificationCheck, now = NOW): string {
  try {
    verifyDelivery(settings, req, now);
  } catch (error) {
    assert.ok(isVerificationFailure(error), `a VerificationFailure, got ${String(error)}`);
    assert.equal(error.check, check, error.message);
    return error.message;
  }
  assert.fail(`expected a ${check} failure`);
}

test("standard-webhooks: a delivery signed by the standardwebhooks library verifies; its retry is not a replay", () => {
  const secret = `whsec_${randomBytes(24).toString("base64")}`;
  const settings: VerifierSettings = { type: "standard-webhooks", secret };
  const body = JSON.stringify({ type: "ticket.created", data: { ticketId: "T-1" } });
  const signedAt = (seconds: number): Record<string, string> => ({
    "webhook-id": "msg_1",
    "webhook-timestamp": String(seconds),
    "webhook-signature": new Webhook(secret).sign("msg_1", new Date(seconds * 1000), body),
  });
  // The library checks the real clock too, so these vectors are signed now.
  const now = Math.floor(Date.now() / 1000);
  const first = verifyDelivery(settings, request(body, signedAt(now)), now);
  const retry = verifyDelivery(settings, request(body, signedAt(now - 5)), now);
  assert.notEqual(first.replayKey, retry.replayKey);
  assert.equal(first.replayTtlSeconds, 600);
  const wrong = refusedWith(settings, request(`${body} `, signedAt(now)), "signature", now);
  assert.doesNotMatch(wrong, /v1,/, "the expected signature is not shown");
  refusedWith(settings, request(body, signedAt(now - 301)), "timestamp", now);
  refusedWith(settings, request(body, { ...signedAt(now), "webhook-id": "" }), "header", now);
  assert.match(settingsProblem({ type: "standard-webhooks", secret: "whsec_" }) ?? "", /empty/);
});

test("hmac: GitHub style (sha256=<hex> over the raw body), base64 and sha1, timestamp.body", () => {
  const secret = "It's a Secret to Everybody";
  const body = '{"action":"opened","number":1}';
  const github: VerifierSettings = { type: "hmac", secret, header: "X-Hub-Signature-256", prefix: "sha256=" };
  const hex = createHmac("sha256", secret).update(body).digest("hex");
  assert.deepEqual(verifyDelivery(github, request(body, { "x-hub-signature-256": `sha256=${hex}` }), NOW), { replayKey: hex });
  assert.doesNotThrow(() => verifyDelivery(github, request(body, { "x-hub-signature-256": `sha256=${hex.toUpperCase()}` }), NOW));
  const message = refusedWith(github, request(body, { "x-hub-signature-256": `sha256=${"0".repeat(64)}` }), "signature");
  assert.doesNotMatch(message, new RegExp(hex), "the expected signature is not shown");
  refusedWith(github, request(body, { "x-hub-signature-256": hex }), "signature");
  refusedWith(github, request(body, {}), "header");

  const shopify: VerifierSettings = { type: "hmac", secret, header: "x-shopify-hmac-sha256", encoding: "base64", algorithm: "sha1" };
  assert.doesNotThrow(() => verifyDelivery(shopify, request(body, { "x-shopify-hmac-sha256": createHmac("sha1", secret).update(body).digest("base64") }), NOW));

  const stamped: VerifierSettings = { type: "hmac", secret, header: "x-signature", signed: "timestamp.body", timestampHeader: "x-timestamp" };
  const at = (seconds: number): Record<string, string> => ({ "x-timestamp": String(seconds), "x-signature": createHmac("sha256", secret).update(`${seconds}.${body}`).digest("hex") });
  assert.equal(verifyDelivery(stamped, request(body, at(NOW - 299)), NOW).replayTtlSeconds, 600);
  refusedWith(stamped, request(body, at(NOW - 301)), "timestamp");
  refusedWith(stamped, request(body, at(NOW + 301)), "timestamp");
  refusedWith(stamped, request(body, { ...at(NOW), "x-timestamp": String(NOW - 1) }), "signature");
  assert.match(settingsProblem({ type: "hmac", secret, header: "x-signature", signed: "timestamp.body" }) ?? "", /timestampHeader/);
});

test("wechatpay-v3: RSA-SHA256 over timestamp, nonce and body; resource decrypted for the transform", () => {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048, publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } });
  const apiV3Key = randomBytes(16).toString("hex");
  const settings: VerifierSettings = { type: "wechatpay-v3", platformPublicKey: publicKey, apiV3Key };
  const refund = { out_trade_no: "SO-100003", refund_status: "SUCCESS", amount: { refund: 12990, total: 12990 } };
  const { body, headers } = wechatpayNotification(privateKey, apiV3Key, refund, NOW);
  const verified = verifyDelivery(settings, request(body, headers), NOW);
  assert.equal(verified.replayKey, `${NOW}.${headers["wechatpay-nonce"]}`);
  const opened = openBody(settings, JSON.parse(body)) as { resource: Record<string, unknown> };
  assert.deepEqual(opened.resource["plaintext"], refund);
  assert.equal(opened.resource["ciphertext"], undefined);

  refusedWith(settings, request(body.replace("退款成功", "退款失败"), headers), "signature");
  refusedWith(settings, request(body, headers), "timestamp", NOW + 301);
  refusedWith(settings, request(body, { ...headers, "wechatpay-nonce": "" }), "header");
  refusedWith({ ...settings, apiV3Key: randomBytes(16).toString("hex") }, request(body, headers), "decryption");
  const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  const forged = wechatpayNotification(other.export({ type: "pkcs8", format: "pem" }).toString(), apiV3Key, refund, NOW);
  refusedWith(settings, request(forged.body, forged.headers), "signature");
  assert.ok(settingsProblem({ ...settings, platformPublicKey: `-----BEGIN PUBLIC KEY-----\n${"A".repeat(120)}\n-----END PUBLIC KEY-----` }));
});

test("alipay-rsa2: RSA2 over the sorted form parameters, without sign, sign_type and empty ones", () => {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  // The console shows the key as bare base64 of its SPKI DER.
  const alipayPublicKey = publicKey.export({ type: "spki", format: "der" }).toString("base64");
  const settings: VerifierSettings = { type: "alipay-rsa2", alipayPublicKey };
  const fields: Record<string, string> = { notify_id: "2026120200222", notify_time: "2026-12-02 16:00:00", trade_status: "TRADE_SUCCESS", out_trade_no: "SO-100003", total_amount: "129.90", subject: "龙井 250g", buyer_logon_id: "" };
  assert.equal(signedContent(fields), "notify_id=2026120200222&notify_time=2026-12-02 16:00:00&out_trade_no=SO-100003&subject=龙井 250g&total_amount=129.90&trade_status=TRADE_SUCCESS");
  const signed = { ...fields, sign_type: "RSA2", sign: sign("sha256", Buffer.from(signedContent(fields)), privateKey).toString("base64") };
  const form = new URLSearchParams(signed).toString();
  const parsed = Object.fromEntries(new URLSearchParams(form));
  assert.equal(verifyDelivery(settings, request(form, {}, parsed), NOW).replayKey, signed.sign);
  assert.doesNotThrow(() => verifyDelivery({ type: "alipay-rsa2", alipayPublicKey: publicKey.export({ type: "spki", format: "pem" }).toString() }, request(form, {}, parsed), NOW));
  refusedWith(settings, request(form, {}, { ...parsed, total_amount: "0.01" }), "signature");
  refusedWith(settings, request(form, {}, { ...parsed, sign: undefined }), "header");
  refusedWith(settings, request("[]", {}, []), "header");
});

test("none: verifies nothing and names no replay key", () => {
  assert.deepEqual(verifyDelivery({ type: "none", dangerouslyUnverified: true }, request("{}", {}), NOW), {});
});
