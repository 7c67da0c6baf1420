// Routing decisions: kefu-hub's router vs json-rules-engine called directly with the same rules and
// facts, for the worked example (docs/examples/manufacturer-ruleset.json) and a generated
// 200-rule ruleset. Both are measured in this run; the ratio is what carries over.
//   node bench/routing.ts            (about 15 s)
import { performance } from "node:perf_hooks";
import type { HubEvent } from "../src/events/hub-event.ts";
import { hubPaths } from "../src/paths.ts";
import { DecisionFacts } from "../src/routing/decision-facts.ts";
import { createClock } from "../src/routing/facts.ts";
import { createReferenceEngine, referencedFacts } from "../src/routing/reference-engine.ts";
import { createRouter, type Router } from "../src/routing/router.ts";
import { createRulesetChecker } from "../src/routing/ruleset-checker.ts";
import type { RulesetDocument } from "../src/routing/ruleset.ts";
import { createSchemaRegistry } from "../src/schemas/schema-registry.ts";
import { generatedRuleset, manufacturerRuleset, recordedEvents } from "../test/routing/fixtures/generate.ts";

const MEASURE_MS = Number(process.env["BENCH_ROUTING_MS"] ?? 2500);
const WARMUP_MS = 500;
const checker = createRulesetChecker(createSchemaRegistry(hubPaths().schemas));
const clock = createClock("UTC");
const events = recordedEvents(1000);

interface Measurement {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** Sequential decisions for `durationMs`, each timed; the event cycles through the recorded set. */
async function measure(decide: (i: number) => Promise<unknown>, durationMs: number): Promise<Measurement> {
  const samples: number[] = [];
  const started = performance.now();
  let i = 0;
  while (performance.now() - started < durationMs) {
    const t0 = performance.now();
    await decide(i++);
    samples.push(performance.now() - t0);
  }
  const elapsed = performance.now() - started;
  samples.sort((a, b) => a - b);
  const at = (q: number): number => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? NaN;
  return { perSecond: (samples.length / elapsed) * 1000, p50Ms: at(0.5), p99Ms: at(0.99) };
}

interface Case {
  label: string;
  router: Router;
  direct: (i: number) => Promise<string | undefined>;
  routerDecide: (i: number) => Promise<string | undefined>;
}

function prepare(label: string, document: RulesetDocument): Case {
  const { compiled } = checker.compileOrThrow(document);
  const router = createRouter({ initial: { version: 1, compiled }, clock, factTimeoutMs: 250 });
  const reference = createReferenceEngine(document);
  const names = referencedFacts(compiled);
  // The direct engine gets every fact precomputed (outside the timing): the router derives its own.
  const factSets = events.map((event: HubEvent) => {
    const facts = new DecisionFacts({ event, catalogue: compiled.facts, clock, deadline: 0 });
    return Object.fromEntries(names.map((name) => [name, plain(facts.value(name))]));
  });
  return {
    label,
    router,
    direct: (i) => reference.decide(factSets[i % factSets.length] as Record<string, unknown>),
    routerDecide: async (i) => (await router.decide(events[i % events.length] as HubEvent)).matchedRules[0],
  };
}

function plain(value: unknown): unknown {
  return typeof value === "symbol" ? undefined : value;
}

async function identical(c: Case): Promise<number> {
  let differences = 0;
  for (let i = 0; i < events.length; i++) if ((await c.direct(i)) !== (await c.routerDecide(i))) differences++;
  return differences;
}

const cases = [prepare(`example (${manufacturerRuleset().rules.length} rules)`, manufacturerRuleset()), prepare("generated (200 rules)", generatedRuleset(200))];
const rows: string[][] = [];
let failed = false;
for (const c of cases) {
  const differences = await identical(c);
  await measure(c.direct, WARMUP_MS);
  await measure(c.routerDecide, WARMUP_MS);
  const direct = await measure(c.direct, MEASURE_MS);
  const router = await measure(c.routerDecide, MEASURE_MS);
  const row = (name: string, m: Measurement, ratio: string): string[] => [c.label, name, Math.round(m.perSecond).toLocaleString("en-US"), m.p50Ms.toFixed(3), m.p99Ms.toFixed(3), ratio];
  rows.push(row("json-rules-engine direct", direct, "1.00"));
  rows.push(row("kefu-hub router", router, (router.perSecond / direct.perSecond).toFixed(2)));
  rows.push([c.label, `decisions differing on ${events.length} recorded events`, String(differences), "", "", ""]);
  failed ||= differences > 0 || router.perSecond < direct.perSecond * 0.9;
}

const header = ["ruleset", "engine", "decisions/s", "p50 ms", "p99 ms", "× direct"];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
const format = (cells: string[]): string => cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ");
console.log(`\nRouting decisions, one at a time (${MEASURE_MS} ms per case, Node ${process.version})`);
console.log(format(header));
for (const row of rows) console.log(format(row));
// Targets (issue 5): ≥ 0.9 × direct on the example, ≥ 3 × on 200 rules, identical decisions.
process.exitCode = failed || rows[4]?.[5] === undefined || Number(rows[4][5]) < 3 ? 1 : 0;
