import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { ERROR_CODES } from "../../src/http/errors.ts";
import { listRoutes, toOpenApiPath } from "../../src/http/route-table.ts";
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
  const inDocument = new Set(
    Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item).filter((key) => HTTP_METHODS.includes(key)).map((method) => `${method.toUpperCase()} ${path}`),
    ),
  );
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
