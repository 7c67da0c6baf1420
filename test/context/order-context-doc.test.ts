import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { startTestHubWithDemo, type TestHubWithDemo } from "../helpers/test-hub-with-demo.ts";

// docs/order-context.md's example is what the demo answers: its curl, its JSON.
const DOC = readFileSync(new URL("../../docs/order-context.md", import.meta.url), "utf8");

interface Source {
  plugin: string;
  cache: string;
  ageMs: number;
  durationMs: number;
}

let hub: TestHubWithDemo;
before(async () => {
  hub = await startTestHubWithDemo();
});
after(() => hub.close());

function documented(): { path: string; latencyMs: number; answer: Record<string, unknown> & { sources: Record<string, Source> } } {
  const path = /curl -H "Authorization: Bearer \$KEY" "http:\/\/localhost:8080(\/v1\/orders\/[^"]+)"/.exec(DOC)?.[1];
  assert.ok(path, "the doc shows a curl of the order context");
  const latencyMs = Number(/PUT \/_knobs\/logistics \{"latencyMs": (\d+)\}/.exec(DOC)?.[1]);
  assert.ok(latencyMs > 0, "the doc says how the demo was slowed");
  const json = /```json\n(\{\n {2}"orderId"[\s\S]*?\n\})\n```/.exec(DOC)?.[1];
  assert.ok(json, "the doc shows the answer as JSON");
  return { path, latencyMs, answer: JSON.parse(json) as Record<string, unknown> & { sources: Record<string, Source> } };
}

test("docs/order-context.md's example is what the demo answers to its curl", async () => {
  const { path, latencyMs, answer } = documented();
  hub.demo.setKnobs("logistics", { latencyMs });
  try {
    const response = await hub.request(path, { scope: "read" });
    const text = await response.text();
    assert.equal(response.status, 200, text);
    const actual = JSON.parse(text) as Record<string, unknown> & { sources: Record<string, Source> };
    const { sources: actualSources, ...actualParts } = actual;
    const { sources: documentedSources, ...documentedParts } = answer;
    assert.deepEqual(actualParts, documentedParts);
    // Timings and cache states vary from run to run; which plugin served which part does not.
    const plugins = (sources: Record<string, Source>): Record<string, string> => Object.fromEntries(Object.entries(sources).map(([part, source]) => [part, source.plugin]));
    assert.deepEqual(plugins(actualSources), plugins(documentedSources));
    assert.deepEqual(Object.keys(actualSources.order ?? {}).sort(), Object.keys(documentedSources.order ?? {}).sort());
  } finally {
    hub.demo.setKnobs("logistics", { latencyMs: 0 });
  }
});
