import assert from "node:assert/strict";
import { test } from "node:test";
import { createEngine, operatorLookup } from "../../src/routing/operators.ts";
import type { RulesetDocument } from "../../src/routing/ruleset.ts";
import { manufacturerRuleset } from "./fixtures/generate.ts";
import { checker } from "./helpers.ts";

const base = (): RulesetDocument => ({
  default: { businessLine: "general", queue: "general", agentGroup: "desk", priority: "normal", tags: [], slaMinutes: 480 },
  rules: [],
});
const rule = (name: string, priority: number, all: unknown[], businessLine = name): RulesetDocument["rules"][number] =>
  ({ name, priority, conditions: { all }, event: { type: "route", params: { businessLine } } }) as RulesetDocument["rules"][number];

test("the manufacturer example compiles without errors or warnings and covers 20+ business lines", () => {
  const document = manufacturerRuleset();
  const result = checker().check(document);
  assert.deepEqual(result.schemaErrors, []);
  assert.deepEqual(result.errors, []);
  assert.deepEqual(result.warnings, []);
  assert.ok(new Set(document.rules.map((r) => r.event.params.businessLine)).size >= 20);
});

test("unknown operators and facts are errors that name the rule and point at the field", () => {
  const document = base();
  document.rules.push(rule("pumps", 10, [{ fact: "productLine", operator: "equals", value: "pumps" }]));
  document.rules.push(rule("valves", 10, [{ fact: "productline", operator: "equal", value: "valves" }, { fact: "region", operator: "equal", value: { fact: "regoin" } }]));
  const { errors, compiled } = checker().check(document);
  assert.equal(compiled, undefined);
  assert.deepEqual(
    errors.map((e) => [e.pointer, e.rule]),
    [
      ["/rules/0/conditions/all/0/operator", "pumps"],
      ["/rules/1/conditions/all/0/fact", "valves"],
      ["/rules/1/conditions/all/1/value/fact", "valves"],
    ],
  );
  assert.match(errors[0]?.message ?? "", /rule "pumps": unknown operator "equals"/);
  assert.match(errors[1]?.message ?? "", /unknown fact "productline"/);
});

test("duplicate names, bad operator values and fallbacks for non-plugin facts are errors", () => {
  const document = base();
  document.rules.push(rule("a", 10, [{ fact: "region", operator: "in", value: "DE" }]));
  document.rules.push(rule("a", 10, [{ fact: "subject", operator: "matches", value: "([unclosed" }, { fact: "subject", operator: "matches", value: "^(\\w+\\s?)*$" }]));
  document.rules.push({ ...rule("b", 5, [{ fact: "hourOfDay", operator: "between", value: [9] }]), fallback: { region: "DE", "customer.tier": "gold" } });
  const { errors } = checker().check(document);
  assert.deepEqual(errors.map((e) => e.pointer), [
    "/rules/0/conditions/all/0/value",
    "/rules/1/name",
    "/rules/1/conditions/all/0/value",
    "/rules/1/conditions/all/1/value",
    "/rules/2/conditions/all/0/value",
    "/rules/2/fallback/region",
  ]);
});

test("schema errors name the rule too, and nothing is compiled", () => {
  const document = base() as unknown as { rules: unknown[] };
  document.rules.push({ name: "broken", priority: 0, conditions: { all: [] }, event: { type: "route", params: {} } });
  const result = checker().check(document);
  assert.equal(result.compiled, undefined);
  assert.ok(result.schemaErrors.some((e) => e.pointer === "/rules/0/priority" && e.rule === "broken" && e.message.startsWith('rule "broken":')));
  assert.ok(result.schemaErrors.some((e) => e.pointer === "/rules/0/event/params/businessLine"));
});

test("a declared fact may not take a built-in name", () => {
  const document = { ...base(), facts: { region: { path: "$.address.region" } } };
  assert.deepEqual(checker().check(document).errors.map((e) => e.pointer), ["/facts/region"]);
});

test("rules that a higher (or equal, earlier) rule always pre-empts are reported as warnings", () => {
  const document = base();
  document.rules.push(rule("eu", 20, [{ fact: "region", operator: "in", value: ["DE", "FR"] }]));
  document.rules.push(rule("de-pumps", 10, [{ fact: "productLine", operator: "equal", value: "pumps" }, { fact: "region", operator: "equal", value: "DE" }]));
  document.rules.push(rule("big", 30, [{ fact: "hourOfDay", operator: "greaterThan", value: 10 }]));
  document.rules.push(rule("bigger", 30, [{ fact: "hourOfDay", operator: "greaterThanInclusive", value: 12 }]));
  document.rules.push(rule("us", 5, [{ fact: "region", operator: "equal", value: "US" }]));
  document.rules.push(rule("us-pumps", 50, [{ fact: "region", operator: "equal", value: "US" }, { fact: "productLine", operator: "equal", value: "pumps" }]));
  const { warnings, compiled } = checker().check(document);
  assert.ok(compiled, "warnings do not stop compilation");
  assert.deepEqual(warnings.map((w) => [w.rule, w.pointer]).sort(), [["bigger", "/rules/3"], ["de-pumps", "/rules/1"]]);
  assert.match(warnings.find((w) => w.rule === "de-pumps")?.message ?? "", /rule "eu" \(priority 20\)/);
});

test("a catch-all rule shadows everything below it; a plugin-fact rule without a shared fallback does not", () => {
  const document = base();
  document.rules.push({ ...rule("gold", 100, [{ fact: "customer.tier", operator: "equal", value: "gold" }]) });
  document.rules.push(rule("gold-pumps", 50, [{ fact: "customer.tier", operator: "equal", value: "gold" }, { fact: "productLine", operator: "equal", value: "pumps" }]));
  document.rules.push({ ...rule("gold-de", 40, [{ fact: "customer.tier", operator: "equal", value: "gold" }, { fact: "region", operator: "equal", value: "DE" }]), fallback: { "customer.tier": "gold" } });
  document.rules.push(rule("everything", 10, []));
  document.rules.push(rule("never", 1, [{ fact: "region", operator: "equal", value: "FR" }]));
  const { warnings } = checker().check(document);
  assert.deepEqual(warnings.map((w) => w.rule), ["gold-pumps", "never"]);
});

test("operators: json-rules-engine's (with decorators) and kefu-hub's custom ones", () => {
  const operator = operatorLookup(createEngine());
  const run = (name: string, fact: unknown, value: unknown): boolean | undefined => operator(name)?.evaluate(fact, value);
  assert.equal(run("equal", "a", "a"), true);
  assert.equal(run("not:in", "a", ["b"]), true);
  assert.equal(run("someFact:equal", ["x", "y"], "y"), true);
  assert.equal(operator("nope"), null);
  assert.equal(run("containsText", "Pump LEAKING badly", ["leak", "smoke"]), true);
  assert.equal(run("containsText", 42, "4"), false);
  assert.equal(run("matches", "Need spare parts", "\\bspare parts?\\b"), true);
  assert.equal(run("matches", "x", "("), false);
  assert.equal(run("matches", `${"a".repeat(40)}!`, "(a+)+$"), false, "nested quantifiers are refused, not run");
  assert.equal(run("startsWith", "SO-123", "SO-"), true);
  assert.equal(run("between", 9, [8, 18]), true);
  assert.equal(run("between", "9", [8, 18]), false);
});
