import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { hostileRequests, operationsOf, type HostileRequest } from "../helpers/hostile-requests.ts";
import { startTestHubWithDemo, type TestHubWithDemo } from "../helpers/test-hub-with-demo.ts";
import { TEST_KEYS } from "../helpers/test-hub.ts";

/**
 * A bounded, seeded fuzz over every operation of the served OpenAPI document (issue 13 B): no
 * answer ≥ 500, and every 4xx is problem+json with its code. `KEFU_FUZZ_SEED=<n>` repeats a run.
 */
const SEED = Number(process.env["KEFU_FUZZ_SEED"] ?? 20261130);
const PER_OPERATION = 90;
const CONCURRENCY = 8;

let hub: TestHubWithDemo;
before(async () => {
  hub = await startTestHubWithDemo();
});
after(() => hub.close());

interface Finding {
  request: string;
  status: number;
  why: string;
}

async function send(request: HostileRequest): Promise<Finding | undefined> {
  const init: RequestInit = { method: request.method, headers: request.headers, ...(request.body === undefined ? {} : { body: request.body }) };
  const what = `${request.operation} as ${request.method} ${request.url.slice(0, 120)} (${String(request.body ?? "").slice(0, 80)})`;
  let response: Response;
  let text: string;
  try {
    response = await fetch(hub.url + request.url, init);
    text = await response.text();
  } catch (error) {
    return { request: what, status: 0, why: `no answer: ${String((error as Error).cause ?? error)}` };
  }
  if (response.status >= 500) return { request: what, status: response.status, why: text.slice(0, 300) };
  if (response.status < 400) return undefined;
  if (!/^application\/problem\+json/.test(response.headers.get("content-type") ?? "")) return { request: what, status: response.status, why: `content type ${response.headers.get("content-type")}` };
  try {
    const problem = JSON.parse(text) as { code?: unknown; status?: unknown };
    if (problem.status !== response.status || typeof problem.code !== "string") return { request: what, status: response.status, why: `problem ${text.slice(0, 200)}` };
  } catch {
    return { request: what, status: response.status, why: `not JSON: ${text.slice(0, 200)}` };
  }
  return undefined;
}

test(`every operation, ${PER_OPERATION} hostile requests each (seed ${SEED}): nothing ≥ 500, every 4xx problem+json`, { timeout: 60_000 }, async () => {
  const document = (await (await fetch(`${hub.url}/openapi.json`)).json()) as Parameters<typeof operationsOf>[0];
  const operations = operationsOf(document);
  assert.ok(operations.length >= 35, `only ${operations.length} operations in the document`);
  const requests = hostileRequests(operations, { seed: SEED, perOperation: PER_OPERATION, authorizations: [`Bearer ${TEST_KEYS.admin}`, `Bearer ${TEST_KEYS.read}`, `Bearer ${TEST_KEYS.ingest}`] });
  assert.ok(requests.length >= 3000, `${requests.length} requests`);
  const findings: Finding[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < requests.length) {
        const request = requests[next++] as HostileRequest;
        const finding = await send(request);
        if (finding) findings.push(finding);
      }
    }),
  );
  assert.deepEqual(findings.slice(0, 15), [], `${findings.length} of ${requests.length} answers were wrong (seed ${SEED}); first ones above`);
});
