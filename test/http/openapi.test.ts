import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { ERROR_CODES } from "../../src/http/errors.ts";
import { listRoutes, toOpenApiPath } from "../../src/http/route-table.ts";
import { LIVE_PATH } from "../../src/live/live-gateway.ts";
import { startTestHub, type TestHub } from "../helpers/test-hub.ts";

const HTTP_METHODS = ["get", "put", "post", "delete", "patch", "options", "head"];

let hub: TestHub;
let document: { paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, { properties?: Record<string, { enum?: string[] }> }> } };
before(async () => {
  hub = await startTestHub();
  const response = await fetch(`${hub.url}/openapi.json`);
  assert.equal(response.status, 200);
  document = (await response.json()) as typeof document;
});
after(() => hub.close());

test("GET /openapi.json is a valid OpenAPI 3.1 document", async () => {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(document));
  assert.equal(validator.version, "3.1");
  assert.deepEqual(result.errors ?? [], [], JSON.stringify(result.errors, null, 2));
  assert.equal(result.valid, true);
});

test("the document has no external references left", () => {
  const refs = JSON.stringify(document).match(/"\$ref":"[^"#][^"]*"/g) ?? [];
  assert.deepEqual(refs, []);
});

test("every express route is documented and every documented operation exists", () => {
  const inExpress = new Set(listRoutes(hub.hub.app).map((r) => `${r.method} ${toOpenApiPath(r.path)}`));
  const operations = Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).filter(([key]) => HTTP_METHODS.includes(key)).map(([method, operation]) => ({ route: `${method.toUpperCase()} ${path}`, operation: operation as Record<string, unknown> })),
  );
  // The WebSocket upgrade is answered by the HTTP server's upgrade handler.
  const upgrades = operations.filter(({ operation }) => operation["x-websocket-upgrade"] === true).map(({ route }) => route);
  assert.deepEqual(upgrades, [`GET ${LIVE_PATH}`], "the only WebSocket upgrade is the live gateway's");
  // Its plain GET (no upgrade) is an express route too: 426 upgrade_required.
  const inDocument = new Set(operations.map(({ route }) => route));
  const undocumented = [...inExpress].filter((route) => !inDocument.has(route)).sort();
  const phantom = [...inDocument].filter((route) => !inExpress.has(route)).sort();
  assert.deepEqual(undocumented, [], "routes missing from openapi/");
  assert.deepEqual(phantom, [], "documented operations with no route");
});

test("the error registry, the OpenAPI Problem schema and docs/errors.md list the same codes", () => {
  const registry = Object.keys(ERROR_CODES).sort();
  const inSchema = [...(document.components.schemas["problem"]?.properties?.["code"]?.enum ?? [])].sort();
  assert.deepEqual(inSchema, registry);
  const docs = readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8");
  const documented = [...docs.matchAll(/^\| `(\w+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])] as const);
  assert.deepEqual(documented.map(([code]) => code).sort(), registry);
  for (const [code, status] of documented) assert.equal(status, ERROR_CODES[code as keyof typeof ERROR_CODES].status, code);
});

type Json = Record<string, unknown>;

/** Every error response of every operation, its `$ref` to a shared response resolved. */
function errorResponses(): { where: string; status: number; response: Json }[] {
  const shared = (document.components as unknown as { responses: Record<string, Json> }).responses;
  const found: { where: string; status: number; response: Json }[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (!HTTP_METHODS.includes(method)) continue;
      for (const [status, raw] of Object.entries((operation as { responses: Record<string, Json> }).responses)) {
        if (!/^[45]/.test(status)) continue;
        const ref = raw["$ref"];
        const response = typeof ref === "string" ? shared[ref.replace("#/components/responses/", "")] : raw;
        assert.ok(response, `${method} ${path} ${status}: ${String(ref)} resolves`);
        found.push({ where: `${method.toUpperCase()} ${path} ${status}`, status: Number(status), response });
      }
    }
  }
  return found;
}

test("every error response shows an example answer of its own status, each a valid problem document", () => {
  const examples = (document.components as unknown as { examples: Record<string, { value: Json }> }).examples;
  const validate = hub.schemas.validator("problem.schema.json");
  for (const code of Object.keys(ERROR_CODES)) {
    const example = examples[`problem.${code}`];
    assert.ok(example, `components.examples has problem.${code}`);
    assert.equal(example.value["code"], code);
    assert.ok(validate(example.value), `problem.${code}: ${JSON.stringify(validate.errors)}`);
  }
  const shown = new Map<number, Set<string>>();
  for (const { where, status, response } of errorResponses()) {
    const media = (response["content"] as Record<string, { example?: Json; examples?: Record<string, { $ref?: string; value?: Json }> }>)["application/problem+json"];
    assert.ok(media, `${where} answers application/problem+json`);
    const values = media.example ? [media.example] : Object.values(media.examples ?? {}).map((entry) => entry.value ?? examples[String(entry.$ref).replace("#/components/examples/", "")]?.value);
    assert.ok(values.length > 0, `${where} has an example`);
    for (const value of values) {
      assert.ok(value, `${where}: its example resolves`);
      assert.equal(value["status"], status, `${where} shows a ${String(value["status"])} example`);
      const codes = shown.get(status) ?? new Set<string>();
      codes.add(String(value["code"]));
      shown.set(status, codes);
    }
  }
  // The shared responses of the common statuses each show their own code.
  assert.ok(shown.get(401)?.has("unauthorized"));
  assert.ok(shown.get(403)?.has("forbidden"));
  assert.ok(shown.get(404)?.has("not_found"));
  assert.ok(shown.get(413)?.has("payload_too_large"));
  assert.ok(shown.get(415)?.has("unsupported_media_type"));
  assert.ok(shown.get(409)?.has("conflict"));
  assert.ok(shown.get(503)?.has("not_ready"));
});

test("Swagger UI is served at /docs and points at /openapi.json", async () => {
  const page = await fetch(`${hub.url}/docs/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type") ?? "", /text\/html/);
  const init = await fetch(`${hub.url}/docs/swagger-ui-init.js`);
  assert.equal(init.status, 200);
  const script = await init.text();
  assert.match(script, /"swaggerUrl": "\/openapi.json"/);
  assert.match(script, /"persistAuthorization": true/);
});
