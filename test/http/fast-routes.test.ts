import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import express from "express";
import { pino } from "pino";
import { createAuth } from "../../src/http/auth.ts";
import { errorHandler } from "../../src/http/error-handler.ts";
import { HubError } from "../../src/http/errors.ts";
import { plainSegmentAfter, withFastRoutes, type FastBodyRoute, type FastRoute } from "../../src/http/fast-routes.ts";
import { createJsonBodyReader, jsonBody } from "../../src/http/json-body.ts";
import { createBeginRequest, installRequestLogger, requestContext } from "../../src/http/request-context.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import { createSessionMirror } from "../../src/sessions/session-mirror.ts";
import { sessionFastRoute } from "../../src/sessions/routes.ts";

describe("plainSegmentAfter", () => {
  test("takes one plain segment and nothing that express would decode or route further", () => {
    assert.equal(plainSegmentAfter("/v1/things/abc-1", "/v1/things/"), "abc-1");
    for (const url of ["/v1/things/", "/v1/things/a/b", "/v1/things/a?x=1", "/v1/things/a%2F", "/v1/things/a#f"]) {
      assert.equal(plainSegmentAfter(url, "/v1/things/"), undefined, url);
    }
  });
});

describe("withFastRoutes", () => {
  let server: Server;
  let base: string;
  const logs: { url: string; status: number }[] = [];
  const metrics = createMetrics();
  const answered: string[] = [];
  const offered: string[] = [];
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/v1/things`, { method: "POST", body, headers: { authorization: "Bearer ok", "content-type": "application/json", ...headers } });

  before(async () => {
    const logger = pino({ level: "info" }, new Writable({ write: (chunk, _enc, done) => (logs.push(JSON.parse(String(chunk)) as { url: string; status: number }), done()) }));
    const begin = createBeginRequest({ logger, httpDuration: metrics.httpDuration, isDraining: () => false });
    const app = express();
    installRequestLogger(app.request, logger);
    app.use(requestContext(begin));
    app.use(jsonBody({ limit: "1kb" }));
    app.get("/v1/things/:id", (req, res) => void res.json({ by: "express", id: req.params["id"] }));
    app.post("/v1/things", (req, res) => void res.status(200).json({ by: "express", body: req.body as unknown }));
    app.use(errorHandler());
    const things: FastRoute = {
      route: "/v1/things/:id",
      urlPrefix: "/v1/things/",
      answer(req: IncomingMessage) {
        const id = plainSegmentAfter(req.url ?? "", "/v1/things/");
        if (id === undefined || id === "declined") return undefined;
        answered.push(id);
        return (res) => void res.setHeader("content-type", "application/json").end(JSON.stringify({ by: "fast", id }));
      },
    };
    const things2: FastBodyRoute = {
      route: "/v1/things",
      url: "/v1/things",
      takes: (req) => req.headers.authorization === "Bearer ok",
      async answer(body) {
        const { verdict } = body as { verdict?: string };
        offered.push(verdict ?? "?");
        if (verdict === "conflict") throw new HubError("idempotency_conflict", "taken");
        if (verdict !== "take") return undefined;
        return (res) => void res.writeHead(202, { "content-type": "application/json" }).end('{"by":"fast"}');
      },
    };
    server = createServer(withFastRoutes({ reads: [things], writes: [things2], readBody: createJsonBodyReader({ limit: "1kb" }), begin }, app)).listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test("a fast answer is logged and counted under the route's pattern, like express's", async () => {
    logs.length = 0;
    const fast = await fetch(`${base}/v1/things/7`);
    assert.deepEqual(await fast.json(), { by: "fast", id: "7" });
    assert.match(fast.headers.get("x-request-id") ?? "", /^[\w-]{36}$/);
    const viaExpress = await fetch(`${base}/v1/things/declined`);
    assert.deepEqual(await viaExpress.json(), { by: "express", id: "declined" });
    assert.deepEqual(logs.map(({ url, status }) => ({ url, status })), [{ url: "/v1/things/7", status: 200 }, { url: "/v1/things/declined", status: 200 }]);
    const values = (await metrics.registry.getSingleMetric("http_request_duration_seconds")?.get())?.values as { metricName?: string; labels: Record<string, unknown>; value: number }[] | undefined;
    const counted = values?.find((v) => v.metricName?.endsWith("_count") === true && v.labels["route"] === "/v1/things/:id");
    assert.equal(counted?.value, 2, "both answers counted under one route label");
  });

  test("only GETs are offered; a declined request reaches express unread", async () => {
    answered.length = 0;
    const head = await fetch(`${base}/v1/things/8`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal((await fetch(`${base}/v1/things/9?x=1`)).status, 200);
    assert.deepEqual(answered, [], "HEAD and a query go to express");
  });

  test("a write it takes is answered here, logged and counted under its route", async () => {
    logs.length = 0;
    const taken = await post('{"verdict":"take"}');
    assert.deepEqual([taken.status, await taken.json()], [202, { by: "fast" }]);
    assert.match(taken.headers.get("x-request-id") ?? "", /^[\w-]{36}$/);
    assert.deepEqual(logs.map(({ url, status }) => ({ url, status })), [{ url: "/v1/things", status: 202 }]);
  });

  test("a write it declines reaches express with the body as read, answered and logged once", async () => {
    logs.length = 0;
    const declined = await post('{"verdict":"decline","n":[1,2]}');
    assert.deepEqual([declined.status, await declined.json()], [200, { by: "express", body: { verdict: "decline", n: [1, 2] } }]);
    assert.equal(logs.length, 1);
  });

  test("what the body or the answer gets wrong, express's error handler answers", async () => {
    offered.length = 0;
    const malformed = await post('{"verdict":');
    assert.deepEqual([malformed.status, ((await malformed.json()) as { code: string }).code], [400, "malformed_json"]);
    const large = await post(JSON.stringify({ verdict: "take", pad: "x".repeat(2000) }));
    assert.deepEqual([large.status, ((await large.json()) as { code: string }).code], [413, "payload_too_large"]);
    const deep = await post(`${"[".repeat(70)}${"]".repeat(70)}`);
    assert.deepEqual([deep.status, ((await deep.json()) as { code: string }).code], [400, "validation_failed"]);
    const conflict = await post('{"verdict":"conflict"}');
    const problem = (await conflict.json()) as { code: string; instance: string };
    assert.deepEqual([conflict.status, problem.code, problem.instance], [409, "idempotency_conflict", "/v1/things"]);
    assert.deepEqual(offered, ["conflict"], "only the bodies that parsed were offered");
  });

  test("a write whose headers it does not take reaches express unread", async () => {
    offered.length = 0;
    const unauthorised = await post('{"verdict":"take"}', { authorization: "Bearer other" });
    assert.equal(unauthorised.status, 200);
    const form = await post("verdict=take", { "content-type": "application/x-www-form-urlencoded" });
    assert.equal(form.status, 415);
    const charset = await post('{"verdict":"take"}', { "content-type": "application/json; charset=latin1" });
    assert.equal(charset.status, 415);
    assert.deepEqual(offered, [], "none was read here");
  });
});

describe("sessionFastRoute", () => {
  const auth = createAuth([{ key: "read-key-1234567", scopes: ["read"] }, { key: "ingest-key-123456", scopes: ["ingest"] }]);
  const mirror = createSessionMirror();
  mirror.put({ sessionId: "S-1", customerId: "C-1", state: "open", version: 3, body: '{"sessionId":"S-1"}' });
  const route = sessionFastRoute({ auth, mirror });
  const request = (url: string, authorization?: string): IncomingMessage => ({ url, headers: authorization ? { authorization } : {} }) as IncomingMessage;

  test("answers an open session to a read key, and declines everything express must answer", () => {
    assert.equal(typeof route.answer(request("/v1/sessions/S-1", "Bearer read-key-1234567")), "function");
    assert.equal(route.answer(request("/v1/sessions/S-1")), undefined, "no key: express answers 401");
    assert.equal(route.answer(request("/v1/sessions/S-1", "Bearer ingest-key-123456")), undefined, "wrong scope: 403");
    assert.equal(route.answer(request("/v1/sessions/S-1", "Bearer wrong-key-12345678")), undefined, "unknown key: 401");
    assert.equal(route.answer(request("/v1/sessions/S-2", "Bearer read-key-1234567")), undefined, "not in memory: express reads Redis");
    assert.equal(route.answer(request("/v1/sessions/S-1/stream", "Bearer read-key-1234567")), undefined, "another route");
  });
});
