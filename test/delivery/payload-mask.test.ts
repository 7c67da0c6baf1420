import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";
import { compileMask } from "../../src/delivery/payload-mask.ts";

const payload = () => ({
  type: "ticket.created",
  timestamp: "2026-12-02T10:00:00Z",
  data: { customer: { phone: "138", email: "a@b.cn", tags: ["x"] }, contacts: [{ value: "1" }, { value: "2" }, { other: 3 }], empty: null, list: ["a", "b"] },
});

test("masks copy on write: the input is unchanged and untouched branches are shared", () => {
  const input = payload();
  const frozen = JSON.stringify(input);
  const out = compileMask(["data.customer.phone"], "k")(input) as ReturnType<typeof payload>;
  assert.equal(JSON.stringify(input), frozen);
  assert.equal(out.data.customer.phone, "***");
  assert.equal(out.data.contacts, input.data.contacts, "a branch no path enters is not copied");
});

test("wildcards reach every key and item; drop removes keys and array items; null and absent stay", () => {
  const mask = compileMask([{ path: "data.contacts.*.value", action: "drop" }, { path: "data.list.*", action: "redact" }, "data.empty", "data.missing.deep", { path: "data.customer.*", action: "drop" }], "k");
  const out = mask(payload()) as Record<string, Record<string, unknown>>;
  assert.deepEqual(out["data"]?.["contacts"], [{}, {}, { other: 3 }]);
  assert.deepEqual(out["data"]?.["list"], ["***", "***"]);
  assert.equal(out["data"]?.["empty"], null);
  assert.deepEqual(out["data"]?.["customer"], {});
  assert.equal("missing" in (out["data"] ?? {}), false);
  const items = compileMask([{ path: "data.list.*", action: "drop" }], "k")(payload()) as Record<string, Record<string, unknown>>;
  assert.deepEqual(items["data"]?.["list"], []);
});

test("hash is HMAC-SHA256 of the value with the key, JSON for non-strings", () => {
  const out = compileMask([{ path: "data.customer.email", action: "hash" }, { path: "data.customer.tags", action: "hash" }], "key-1")(payload()) as ReturnType<typeof payload>;
  assert.equal(out.data.customer.email, createHmac("sha256", "key-1").update("a@b.cn").digest("hex"));
  assert.equal(out.data.customer.tags, createHmac("sha256", "key-1").update('["x"]').digest("hex"));
});
