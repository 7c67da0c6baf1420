import assert from "node:assert/strict";
import { test } from "node:test";
import type { HubEvent, RoutingDecision } from "../../src/events/hub-event.ts";
import { DecisionFacts } from "../../src/routing/decision-facts.ts";
import { createClock } from "../../src/routing/facts.ts";
import { createReferenceEngine, referencedFacts } from "../../src/routing/reference-engine.ts";
import { toDecision, type Router } from "../../src/routing/router.ts";
import type { RulesetDocument } from "../../src/routing/ruleset.ts";
import { simulate } from "../../src/routing/simulate.ts";
import { generatedRuleset, manufacturerRuleset, recordedEvents } from "./fixtures/generate.ts";
import { routerFor, ticket } from "./helpers.ts";

/** The same ruleset decided by plain json-rules-engine, facts computed the same way. */
function referenceDecider(document: RulesetDocument, router: Router): (event: HubEvent) => Promise<RoutingDecision> {
  const reference = createReferenceEngine(document);
  const active = router.active();
  const clock = createClock("UTC");
  const facts = referencedFacts(active.compiled);
  return async (event) => {
    const values = new DecisionFacts({ event, catalogue: active.compiled.facts, clock, deadline: 0 });
    const name = await reference.decide(Object.fromEntries(facts.map((fact) => [fact, plain(values.value(fact))])));
    return toDecision(active, active.compiled.rules.find((rule) => rule.name === name), false);
  };
}

/** Plugin facts stay unfetched here (no plugin): undefined for both engines. */
function plain(value: unknown): unknown {
  return typeof value === "symbol" ? undefined : value;
}

for (const [label, document] of [["the manufacturer example", manufacturerRuleset()], ["a generated 200-rule ruleset", generatedRuleset(200)]] as const) {
  test(`simulate proves the router decides ${label} exactly as json-rules-engine does`, async () => {
    const router = routerFor(document);
    const events = recordedEvents(document.rules.length > 100 ? 150 : 400);
    const report = await simulate({ events, before: referenceDecider(document, router), after: (event) => router.decide(event) });
    assert.equal(report.total, events.length);
    assert.equal(report.changed, 0, JSON.stringify(report.changes.slice(0, 3)));
    assert.equal(report.decidedByOtherRule, 0);
    const decided = new Set(await Promise.all(events.map(async (event) => (await router.decide(event)).matchedRules[0] ?? "default")));
    assert.ok(decided.size > 10, `the recorded set exercises many rules (${decided.size})`);
  });
}

test("simulate reports exactly the decisions that change between two rulesets", async () => {
  const before = manufacturerRuleset();
  const after = manufacturerRuleset();
  // Move billing to a new queue, and drop the Japanese desk (those go to the default route).
  const billing = after.rules.find((rule) => rule.name === "billing");
  if (billing) billing.event.params.queue = "billing-v2";
  after.rules = after.rules.filter((rule) => rule.name !== "japanese-language");
  const oldRouter = routerFor(before);
  const newRouter = routerFor(after, { version: 2 });
  const events = recordedEvents(300);
  const report = await simulate({ events, before: (e) => oldRouter.decide(e), after: (e) => newRouter.decide(e), maxChanges: 1000 });

  const expected: string[] = [];
  for (const event of events) {
    const [was, would] = [await oldRouter.decide(event), await newRouter.decide(event)];
    if (was.matchedRules[0] === "billing" || was.matchedRules[0] === "japanese-language") expected.push(event.id);
    assert.equal(JSON.stringify({ ...was, rulesetVersion: 0 }) !== JSON.stringify({ ...would, rulesetVersion: 0 }), expected.at(-1) === event.id);
  }
  assert.ok(expected.length > 5);
  assert.equal(report.changed, expected.length);
  assert.deepEqual(report.changes.map((change) => change.eventId), expected);
  assert.equal(report.unchanged, events.length - expected.length);
  const billingChange = report.changes.find((change) => change.before.matchedRules[0] === "billing");
  assert.deepEqual(billingChange?.fields, ["queue"]);
});

test("the rule index skips only rules whose guard fails, and keeps priority and document order", async () => {
  const route = (businessLine: string) => ({ type: "route" as const, params: { businessLine } });
  const lines = ["pumps", "valves", "motors", "fans", "gears", "hoses", "seals", "tanks"];
  const document: RulesetDocument = {
    default: { businessLine: "general", queue: "q", agentGroup: "g", priority: "normal", slaMinutes: 60 },
    rules: [
      ...lines.map((line) => ({ name: `${line}-eu`, priority: 5, conditions: { all: [{ fact: "productLine", operator: "equal", value: line }, { fact: "region", operator: "in", value: ["DE", "FR"] }] }, event: route(`${line}-eu`) })),
      { name: "de-anything", priority: 5, conditions: { all: [{ fact: "region", operator: "equal", value: "DE" }] }, event: route("de") },
      { name: "pumps-or-valves", priority: 7, conditions: { all: [{ fact: "productLine", operator: "in", value: ["pumps", "valves"] }, { fact: "language", operator: "equal", value: "de" }] }, event: route("pv") },
      { name: "fr-first", priority: 5, conditions: { any: [{ fact: "region", operator: "equal", value: "FR" }] }, event: route("fr") },
      ...lines.map((line) => ({ name: `${line}-any`, priority: 1, conditions: { all: [{ fact: "productLine", operator: "equal", value: line }] }, event: route(line) })),
    ],
  };
  const router = routerFor(document);
  assert.equal(router.active().compiled.index?.fact, "productLine");
  const decide = referenceDecider(document, router);
  const events = [];
  for (const productLine of [...lines, "other", undefined]) {
    for (const region of ["DE", "FR", "US"]) for (const language of ["de", "en"]) events.push(ticket({ productLine, region, language }));
  }
  const report = await simulate({ events, before: decide, after: (event) => router.decide(event) });
  assert.equal(report.changed + report.decidedByOtherRule, 0, JSON.stringify(report.changes.slice(0, 2)));
  assert.deepEqual((await router.decide(ticket({ productLine: "fans", region: "FR" }))).matchedRules, ["fans-eu"], "earlier in the document than fr-first");
  assert.deepEqual((await router.decide(ticket({ productLine: "other", region: "DE" }))).matchedRules, ["de-anything"]);
});
