import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";
import type { ErrorObject } from "ajv";
import { toFieldErrors } from "../../src/schemas/schema-registry.ts";
import { startTestHub, type TestHub } from "../helpers/test-hub.ts";
import { expectProblem } from "../helpers/problem.ts";

/** Hostile input is answered 4xx problem+json, never 5xx (issue 13 B). */
let hub: TestHub;
let operations: { method: string; path: string }[];
before(async () => {
  hub = await startTestHub({ deliveryAllowCidrs: ["127.0.0.0/8"] });
  const document = (await (await fetch(`${hub.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
  operations = Object.entries(document.paths).flatMap(([path, item]) =>
    Object.keys(item).filter((key) => ["get", "post", "put", "patch", "delete"].includes(key)).map((method) => ({ method: method.toUpperCase(), path })),
  );
});
after(() => hub.close());

describe("a path parameter that is not valid percent-encoding", () => {
  const BAD = ["%ff", "%C3", "%zz", "%ED%A0%80", "%", "ok%"];

  test("is 400 malformed_encoding naming the parameter, on every operation with one", async () => {
    const withParameters = operations.filter((op) => op.path.includes("{"));
    assert.ok(withParameters.length >= 15, `only ${withParameters.length} operations with path parameters`);
    for (const { method, path } of withParameters) {
      const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const bad of BAD) {
        const url = path.replace(/\{\w+\}/g, bad);
        const init: RequestInit & { json?: unknown } = { method, ...(["POST", "PUT", "PATCH"].includes(method) ? { json: {} } : {}) };
        const problem = await expectProblem(await hub.request(url, init), 400, "malformed_encoding");
        assert.deepEqual(problem.errors?.map((e) => e.pointer), [`/path/${names[0]}`], `${method} ${url}`);
      }
    }
  });

  test("a valid encoding still reaches the route; a literal segment that does not decode is 404", async () => {
    await expectProblem(await hub.request("/v1/subscriptions/sub_%41bc"), 404, "not_found");
    await expectProblem(await hub.request("/v1/%ff/subscriptions"), 404, "route_not_found");
  });
});

describe("a compressed body that does not decompress", () => {
  const ticket = { id: "evt_gzip-1", type: "ticket.created", occurredAt: "2026-01-01T00:00:00Z", source: "test", priority: "normal", data: { ticketId: "T-1", subject: "s", customer: { id: "C-1" } } };

  test("is 400 malformed_content_encoding for gzip, deflate, br and zstd, garbage or cut short", async () => {
    const cut = gzipSync(JSON.stringify(ticket)).subarray(0, 20);
    const cases: [string, Uint8Array][] = [["gzip", Buffer.from("not gzip")], ["gzip", cut], ["deflate", Buffer.from("x")], ["br", Buffer.from("not brotli")], ["zstd", Buffer.from("not zstd")], ["GZIP", Buffer.from([0x1f, 0x8b, 0, 0])]];
    for (const [encoding, body] of cases) {
      const response = await hub.request("/v1/events", { method: "POST", headers: { "content-type": "application/json", "content-encoding": encoding }, body });
      const problem = await expectProblem(response, 400, "malformed_content_encoding");
      assert.match(problem.detail, new RegExp(encoding));
    }
  });

  test("a body that does decompress is read; an unknown encoding is 415", async () => {
    for (const [encoding, compress] of [["gzip", gzipSync], ["deflate", deflateSync], ["br", brotliCompressSync]] as const) {
      const body = compress(JSON.stringify({ ...ticket, id: `evt_${encoding}-ok` }));
      const response = await hub.request("/v1/events", { method: "POST", headers: { "content-type": "application/json", "content-encoding": encoding }, body });
      assert.equal(response.status, 202, await response.text());
    }
    const unknown = await hub.request("/v1/events", { method: "POST", headers: { "content-type": "application/json", "content-encoding": "lzma" }, body: "{}" });
    await expectProblem(unknown, 415, "unsupported_media_type");
  });
});

describe("an integer query parameter that is not a decimal integer", () => {
  test("is 400 naming it, on every paginated list and the ruleset diff", async () => {
    const lists = ["/v1/deliveries", "/v1/events/evt_none", `/v1/subscriptions/sub_none/deliveries`];
    for (const limit of ["1e309", "Infinity", "-Infinity", "1e2", "0x10", "5.0", "1.5", " 5", "NaN", "", "9".repeat(400)]) {
      for (const list of lists) {
        const problem = await expectProblem(await hub.request(`${list}?limit=${encodeURIComponent(limit)}`), 400, "validation_failed");
        assert.deepEqual(problem.errors?.map((e) => e.pointer), ["/query/limit"], `${list}?limit=${limit}`);
      }
    }
    const diff = await expectProblem(await hub.request("/v1/routing/ruleset/diff?from=1e309&to=Infinity"), 400, "validation_failed");
    assert.deepEqual(diff.errors?.map((e) => e.pointer), ["/query/from", "/query/to"]);
  });

  test("a decimal integer is taken", async () => {
    const response = await hub.request("/v1/deliveries?limit=200");
    assert.equal(response.status, 200, await response.text());
  });
});

describe("a body that nests too deep", () => {
  const nested = (levels: number): string => "[".repeat(levels) + "]".repeat(levels);
  // The envelope, data, customer and extra's own levels: extra nested n deep puts its deepest array at level 3 + n.
  const event = (id: string, levels: number): string =>
    `{"id":"${id}","type":"ticket.created","occurredAt":"2026-01-01T00:00:00Z","source":"test","priority":"normal","data":{"ticketId":"T-1","subject":"s","customer":{"id":"C-1","extra":${nested(levels)}}}}`;
  const post = (path: string, body: string, headers: Record<string, string> = {}): Promise<Response> =>
    hub.request(path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });

  test("an event 64 levels deep is accepted, 65 and 20,000 levels are 400 naming where", async () => {
    assert.equal((await post("/v1/events", event("evt_depth-64", 61))).status, 202);
    for (const levels of [62, 20_000]) {
      const problem = await expectProblem(await post("/v1/events", event(`evt_depth-${levels}`, levels)), 400, "validation_failed");
      assert.equal(problem.errors?.length, 1);
      assert.equal(problem.errors?.[0]?.pointer, `/data/customer/extra${"/0".repeat(61)}`);
      assert.match(problem.errors?.[0]?.message ?? "", /deeper than 64 levels/);
    }
    await expectProblem(await hub.request("/v1/events/evt_depth-20000"), 404, "not_found");
  });

  test("the bound holds for every body: a ruleset, a batch, a plugin input", async () => {
    const deep = nested(10_000);
    await expectProblem(await hub.request("/v1/routing/ruleset", { method: "PUT", headers: { "content-type": "application/json", "if-match": "*" }, body: `{"rules":${deep}}` }), 400, "validation_failed");
    await expectProblem(await post("/v1/events/batch", `{"events":[${event("evt_batch-deep", 10_000)}]}`), 400, "validation_failed");
    await expectProblem(await post("/v1/plugins/none/invoke", `{"method":"getOrder","input":{"orderId":${deep}}}`), 400, "validation_failed");
    await expectProblem(await post("/v1/routing/decide", `{"facts":{"a":${deep}}}`), 400, "validation_failed");
  });
});

/** Sends raw bytes and reads the whole answer, until the server closes the connection. */
function rawExchange(url: string, request: Buffer | string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(request));
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.setTimeout(5000, () => socket.destroy(new Error("no answer within 5 s")));
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("latin1");
      const [head = "", body = ""] = text.split("\r\n\r\n");
      const [statusLine = "", ...lines] = head.split("\r\n");
      const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]));
      resolve({ status: Number(statusLine.split(" ")[1]), headers, body });
    });
  });
}

describe("what Node's HTTP parser refuses", () => {
  const cases: [string, Buffer | string, number, string][] = [
    ["a NUL byte in the request line", "GET /v1/whoami\0 HTTP/1.1\r\nHost: x\r\n\r\n", 400, "malformed_request"],
    ["a NUL byte in a header value", "GET /v1/whoami HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n", 400, "malformed_request"],
    ["a non-ASCII request line", Buffer.concat([Buffer.from("GET /v1/"), Buffer.from([0xc3, 0xbc, 0xff]), Buffer.from(" HTTP/1.1\r\nHost: x\r\n\r\n")]), 400, "malformed_request"],
    ["an unknown method", "BREW /v1/whoami HTTP/1.1\r\nHost: x\r\n\r\n", 400, "malformed_request"],
    ["a request line that is not HTTP", "hello there\r\n\r\n", 400, "malformed_request"],
    ["a bad header name", "GET /v1/whoami HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n", 400, "malformed_request"],
    ["over-long headers", `GET /v1/whoami HTTP/1.1\r\nHost: x\r\nX-Long: ${"a".repeat(20_000)}\r\n\r\n`, 431, "headers_too_large"],
  ];
  for (const [what, request, status, code] of cases) {
    test(`${what} is ${status} problem+json ${code}`, async () => {
      const answer = await rawExchange(hub.url, request);
      assert.equal(answer.status, status, JSON.stringify(answer));
      assert.equal(answer.headers["content-type"], "application/problem+json");
      assert.equal(answer.headers["connection"], "close");
      assert.equal(Number(answer.headers["content-length"]), Buffer.byteLength(answer.body));
      const problem = JSON.parse(answer.body) as { code: string; status: number; type: string; detail: string; requestId: string };
      assert.equal(problem.code, code);
      assert.equal(problem.status, status);
      assert.equal(problem.type, `https://kefu-hub.dev/problems/${code}`);
      assert.equal(problem.requestId, answer.headers["x-request-id"]);
    });
  }

  test("a keep-alive connection still serves good requests before a bad one", async () => {
    const answer = await rawExchange(hub.url, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /x\0 HTTP/1.1\r\n\r\n");
    assert.equal(answer.status, 200);
  });
});

describe("a validation answer echoes a bounded amount", () => {
  test("50,000 unknown keys list 20 errors and count the rest", async () => {
    const body: Record<string, unknown> = { url: "http://127.0.0.1:9/x", events: ["*"] };
    for (let i = 0; i < 50_000; i++) body[`k${i}`] = i;
    const response = await hub.request("/v1/subscriptions", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const problem = await expectProblem(response, 400, "validation_failed");
    assert.equal(problem.errors?.length, 20);
    assert.equal(problem["omittedErrors"], 50_000 - 20);
    assert.ok(JSON.stringify(problem).length < 5_000, `${JSON.stringify(problem).length} characters`);
  });

  test("a 500 kB key comes back cut, as do a long path and detail", async () => {
    const key = "k".repeat(500_000);
    const response = await hub.request("/v1/subscriptions", { method: "POST", json: { url: "http://127.0.0.1:9/x", events: ["*"], [key]: 1 } });
    const problem = await expectProblem(response, 400, "validation_failed");
    const pointer = problem.errors?.[0]?.pointer ?? "";
    assert.equal(pointer.length, 200);
    assert.ok(pointer.endsWith("…"));
    assert.ok(problem.detail.length <= 1000);
    assert.equal(problem["omittedErrors"], undefined);

    const long = await expectProblem(await hub.request(`/v1/subscriptions/sub_${"x".repeat(5000)}`), 404, "not_found");
    assert.ok(long.detail.length <= 1000 && long.detail.endsWith("…"));
    assert.ok(String(long["instance"]).length <= 500);
  });

  test("a cut never splits a surrogate pair", async () => {
    const problem = await expectProblem(await hub.request(`/v1/subscriptions/${encodeURIComponent("😀".repeat(600))}`), 404, "not_found");
    assert.ok(problem.detail.isWellFormed());
  });
});

describe("validation errors name each failing field once (issue 13 D8)", () => {
  const envelope = { id: "evt_d8", type: "ticket.created", occurredAt: "2026-01-01T00:00:00Z", source: "test", priority: "normal" };

  test("data of the wrong type is one /data entry, with no empty-pointer `then` entry", async () => {
    const problem = await expectProblem(await hub.request("/v1/events", { method: "POST", json: { ...envelope, data: 5 } }), 400, "validation_failed");
    assert.deepEqual(problem.errors, [{ pointer: "/data", message: "must be object" }]);
    assert.equal(problem.detail, "the body is invalid: /data must be object");
  });

  test("a missing field inside data is named once; an unknown top-level property by its name", async () => {
    const missing = await expectProblem(await hub.request("/v1/events", { method: "POST", json: { ...envelope, data: { ticketId: "T-1", customer: { id: "C-1" } } } }), 400, "validation_failed");
    assert.deepEqual(missing.errors, [{ pointer: "/data/subject", message: "is required" }]);
    const unknown = await expectProblem(await hub.request("/v1/events", { method: "POST", json: { ...envelope, data: { ticketId: "T-1", subject: "s", customer: { id: "C-1" } }, extra: 1 } }), 400, "validation_failed");
    assert.deepEqual(unknown.errors, [{ pointer: "/extra", message: "is not an allowed property" }]);
  });

  test("a field failing two rules is one entry with both messages; an `if` alone is kept", () => {
    const error = (keyword: string, instancePath: string, message: string): ErrorObject => ({ keyword, instancePath, schemaPath: "#", params: {}, message });
    assert.deepEqual(
      toFieldErrors([error("minLength", "/a", "must NOT have fewer than 3 characters"), error("pattern", "/a", 'must match pattern "^x"'), error("minLength", "/a", "must NOT have fewer than 3 characters"), error("if", "", 'must match "then" schema')]),
      [{ pointer: "/a", message: 'must NOT have fewer than 3 characters; must match pattern "^x"' }],
    );
    assert.deepEqual(toFieldErrors([error("if", "", 'must match "then" schema')]), [{ pointer: "", message: 'must match "then" schema' }]);
  });
});

test("a batch item's errors are bounded the same way", async () => {
  const item: Record<string, unknown> = { id: "evt_batch-keys", type: "ticket.created", occurredAt: "2026-01-01T00:00:00Z", source: "test", priority: "normal", data: { ticketId: "T-1", subject: "s", customer: { id: "C-1" } } };
  for (let i = 0; i < 1000; i++) item[`k${i}`] = i;
  const response = await hub.request("/v1/events/batch", { method: "POST", json: { events: [item] } });
  assert.equal(response.status, 200);
  const { results } = (await response.json()) as { results: { status: number; errors: unknown[]; omittedErrors: number }[] };
  assert.equal(results[0]?.status, 400);
  assert.equal(results[0]?.errors.length, 20);
  assert.equal(results[0]?.omittedErrors, 980);
});
