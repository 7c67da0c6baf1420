import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { after, before, describe, test } from "node:test";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { Router } from "express";
import { pino } from "pino";
import { createAuth } from "../../src/http/auth.ts";
import { createHttpApp } from "../../src/http/create-http-app.ts";
import { createValidation } from "../../src/http/validate.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import { createSchemaRegistry } from "../../src/schemas/schema-registry.ts";
import { expectProblem } from "../helpers/problem.ts";

const KEYS = { admin: "admin-key-123456", read: "read-key-1234567" };

/** The shared HTTP layer with a small router of its own, so that every error path can be reached. */
async function startApp(): Promise<{ url: string; logs: string[]; server: Server }> {
  const logs: string[] = [];
  const logger = pino({ level: "info" }, new Writable({ write: (chunk, _enc, done) => (logs.push(String(chunk)), done()) }));
  const schemas = createSchemaRegistry(fileURLToPath(new URL("../fixtures/schemas", import.meta.url)));
  const validation = createValidation(schemas);
  const auth = createAuth([{ key: KEYS.admin, scopes: ["admin"] }, { key: KEYS.read, scopes: ["read"] }]);
  const router = Router();
  router.post("/v1/widgets", auth.require("admin"), validation.body("test/widget.json"), (req, res) => {
    res.status(201).json(req.body);
  });
  router.get("/v1/widgets", auth.require("read"), validation.query("test/widget-query.json"), (req, res) => {
    res.json({ limit: req.query["limit"] });
  });
  router.get("/v1/boom", () => {
    throw new Error("database password is hunter2");
  });
  const { app } = createHttpApp({
    logger,
    metrics: createMetrics(),
    openapi: { openapi: "3.1.0", paths: {}, components: { schemas: {} } },
    bodyLimit: "1kb",
    routers: [router],
    readiness: async () => ({ ready: true, checks: {} }),
    isDraining: () => false,
  });
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, logs, server };
}

let url: string;
let logs: string[];
let server: Server;
before(async () => ({ url, logs, server } = await startApp()));
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const admin = { authorization: `Bearer ${KEYS.admin}`, "content-type": "application/json" };

describe("bad input answers problem+json", () => {
  test("malformed JSON → 400 malformed_json", async () => {
    const response = await fetch(`${url}/v1/widgets`, { method: "POST", headers: admin, body: '{"name": "a",' });
    await expectProblem(response, 400, "malformed_json");
  });

  test("schema violation → 400 validation_failed naming each field", async () => {
    const response = await fetch(`${url}/v1/widgets`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ size: 0, color: "green", extra: true }),
    });
    const problem = await expectProblem(response, 400, "validation_failed");
    const pointers = (problem.errors ?? []).map((e) => e.pointer).sort();
    assert.deepEqual(pointers, ["/color", "/extra", "/name", "/size"]);
    assert.match(problem.errors?.find((e) => e.pointer === "/color")?.message ?? "", /must be one of "red", "blue"/);
  });

  test("a JSON body that is not an object is a validation error, an empty body too", async () => {
    const array = await fetch(`${url}/v1/widgets`, { method: "POST", headers: admin, body: "[1]" });
    await expectProblem(array, 400, "validation_failed");
    const empty = await fetch(`${url}/v1/widgets`, { method: "POST", headers: { authorization: admin.authorization } });
    const problem = await expectProblem(empty, 400, "validation_failed");
    assert.equal(problem.errors?.[0]?.pointer, "");
  });

  test("query violation → 400 with a /query pointer; valid query is coerced", async () => {
    const bad = await fetch(`${url}/v1/widgets?limit=many`, { headers: admin });
    const problem = await expectProblem(bad, 400, "validation_failed");
    assert.equal(problem.errors?.[0]?.pointer, "/query/limit");
    const good = await fetch(`${url}/v1/widgets?limit=5`, { headers: admin });
    assert.equal(good.status, 200);
    assert.deepEqual(await good.json(), { limit: 5 });
  });

  test("no key → 401 with WWW-Authenticate; unknown key → 401", async () => {
    const missing = await fetch(`${url}/v1/widgets`);
    await expectProblem(missing, 401, "unauthorized");
    assert.match(missing.headers.get("www-authenticate") ?? "", /^Bearer/);
    const unknown = await fetch(`${url}/v1/widgets`, { headers: { authorization: "Bearer nope-nope-nope" } });
    await expectProblem(unknown, 401, "unauthorized");
    const notBearer = await fetch(`${url}/v1/widgets`, { headers: { authorization: `Basic ${KEYS.admin}` } });
    await expectProblem(notBearer, 401, "unauthorized");
  });

  test("wrong scope → 403", async () => {
    const response = await fetch(`${url}/v1/widgets`, {
      method: "POST",
      headers: { ...admin, authorization: `Bearer ${KEYS.read}` },
      body: JSON.stringify({ name: "a", size: 1 }),
    });
    const problem = await expectProblem(response, 403, "forbidden");
    assert.match(problem.detail, /admin/);
  });

  test("unknown route → 404 route_not_found", async () => {
    await expectProblem(await fetch(`${url}/v1/nothing-here`), 404, "route_not_found");
  });

  test("wrong method → 405 with Allow", async () => {
    const response = await fetch(`${url}/v1/widgets`, { method: "DELETE", headers: admin });
    await expectProblem(response, 405, "method_not_allowed");
    assert.equal(response.headers.get("allow"), "GET, HEAD, POST");
  });

  test("body over the limit → 413", async () => {
    const response = await fetch(`${url}/v1/widgets`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ name: "x".repeat(2000), size: 1 }),
    });
    await expectProblem(response, 413, "payload_too_large");
  });

  test("non-JSON content type → 415", async () => {
    const response = await fetch(`${url}/v1/widgets`, {
      method: "POST",
      headers: { authorization: admin.authorization, "content-type": "text/plain" },
      body: "name=a",
    });
    await expectProblem(response, 415, "unsupported_media_type");
    const form = await fetch(`${url}/v1/widgets`, {
      method: "POST",
      headers: { authorization: admin.authorization },
      body: new URLSearchParams({ name: "a" }),
    });
    await expectProblem(form, 415, "unsupported_media_type");
  });

  test("an unexpected error → 500 with a generic body; the cause only in the log", async () => {
    const response = await fetch(`${url}/v1/boom`, { headers: { "x-request-id": "boom-1" } });
    const problem = await expectProblem(response, 500, "internal");
    assert.doesNotMatch(JSON.stringify(problem), /hunter2/);
    assert.equal(problem["requestId"], "boom-1");
    const line = logs.find((l) => l.includes("hunter2"));
    assert.ok(line, "the cause is logged");
    assert.equal((JSON.parse(line) as { reqId: string }).reqId, "boom-1");
  });
});

describe("request ids", () => {
  test("generated when absent, echoed when given, replaced when unsafe", async () => {
    const generated = await fetch(`${url}/v1/nothing`);
    assert.match(generated.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
    const given = await fetch(`${url}/v1/nothing`, { headers: { "x-request-id": "abc-123" } });
    assert.equal(given.headers.get("x-request-id"), "abc-123");
    const unsafe = await fetch(`${url}/v1/nothing`, { headers: { "x-request-id": "a b\tc" } });
    assert.notEqual(unsafe.headers.get("x-request-id"), "a b\tc");
  });

  test("every request's log line carries its id", async () => {
    await fetch(`${url}/v1/widgets?limit=3`, { headers: { ...admin, "x-request-id": "trace-me" } });
    const line = logs.map((l) => JSON.parse(l) as { reqId?: string; msg: string; status?: number }).find((l) => l.reqId === "trace-me");
    assert.equal(line?.msg, "request");
    assert.equal(line?.status, 200);
  });
});
