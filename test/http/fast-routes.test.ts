import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import express from "express";
import { pino } from "pino";
import { createAuth } from "../../src/http/auth.ts";
import { plainSegmentAfter, withFastRoutes, type FastRoute } from "../../src/http/fast-routes.ts";
import { createBeginRequest, requestContext } from "../../src/http/request-context.ts";
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

  before(async () => {
    const logger = pino({ level: "info" }, new Writable({ write: (chunk, _enc, done) => (logs.push(JSON.parse(String(chunk)) as { url: string; status: number }), done()) }));
    const begin = createBeginRequest({ logger, httpDuration: metrics.httpDuration, isDraining: () => false });
    const app = express();
    app.use(requestContext(begin));
    app.get("/v1/things/:id", (req, res) => void res.json({ by: "express", id: req.params["id"] }));
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
    server = createServer(withFastRoutes([things], begin, app)).listen(0, "127.0.0.1");
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
