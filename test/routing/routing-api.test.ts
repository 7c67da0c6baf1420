import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { expectProblem } from "../helpers/problem.ts";
import { startTestHub, type TestHub } from "../helpers/test-hub.ts";
import { manufacturerRuleset } from "./fixtures/generate.ts";

let hub: TestHub;
before(async () => {
  hub = await startTestHub();
});
after(async () => {
  await hub.close();
});

const pumpsTicket = { event: { type: "ticket.created", data: { productLine: "pumps", region: "DE", subject: "Pump leaking" } } };

async function put(body: unknown, ifMatch?: string): Promise<Response> {
  return hub.request("/v1/routing/ruleset", { method: "PUT", json: body, ...(ifMatch ? { headers: { "if-match": ifMatch } } : {}) });
}

async function decide(): Promise<{ decision: { matchedRules: string[]; rulesetVersion: number; queue: string } }> {
  const res = await hub.request("/v1/routing/decide", { method: "POST", json: pumpsTicket, scope: "read" });
  assert.equal(res.status, 200);
  return (await res.json()) as { decision: { matchedRules: string[]; rulesetVersion: number; queue: string } };
}

test("before any PUT the built-in version 0 is current, with an ETag", async () => {
  const res = await hub.request("/v1/routing/ruleset", { scope: "read" });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("etag"), '"0"');
  const body = (await res.json()) as { version: number; ruleset: { rules: unknown[] } };
  assert.equal(body.version, 0);
  assert.deepEqual(body.ruleset.rules, []);
});

test("PUT needs admin and If-Match; then it activates a new version", async () => {
  await expectProblem(await hub.request("/v1/routing/ruleset", { method: "PUT", json: manufacturerRuleset(), headers: { "if-match": '"0"' }, scope: "read" }), 403, "forbidden");
  await expectProblem(await put(manufacturerRuleset()), 428, "precondition_required");
  const res = await put(manufacturerRuleset(), '"0"');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("etag"), '"1"');
  assert.deepEqual(await res.json(), { version: 1, warnings: [] });
  const { decision } = await decide();
  assert.deepEqual(decision.matchedRules, ["pumps-eu"]);
  assert.equal(decision.rulesetVersion, 1);
  await expectProblem(await put(manufacturerRuleset(), '"0"'), 412, "precondition_failed");
});

test("invalid rulesets are refused naming the rule and the field; the active one is unchanged", async () => {
  const unknownOperator = manufacturerRuleset();
  (unknownOperator.rules[3]?.conditions.all?.[0] as { operator: string }).operator = "greaterThanOrEqual";
  let problem = await expectProblem(await put(unknownOperator, '"1"'), 422, "unprocessable");
  assert.deepEqual(problem.errors, [
    { pointer: "/rules/3/conditions/all/0/operator", message: `rule "large-order": unknown operator "greaterThanOrEqual" (see docs/routing.md for the operators)` },
  ]);

  const unknownFact = manufacturerRuleset();
  (unknownFact.rules[0]?.conditions.any?.[0] as { fact: string }).fact = "subjectLine";
  problem = await expectProblem(await put(unknownFact, '"1"'), 422, "unprocessable");
  assert.equal(problem.errors?.[0]?.pointer, "/rules/0/conditions/any/0/fact");
  assert.match(problem.errors?.[0]?.message ?? "", /rule "safety-incident": unknown fact "subjectLine"/);

  const schema = manufacturerRuleset() as unknown as { rules: { priority: unknown }[] };
  (schema.rules[2] as { priority: unknown }).priority = "high";
  problem = await expectProblem(await put(schema, '"1"'), 400, "validation_failed");
  assert.deepEqual(problem.errors, [{ pointer: "/rules/2/priority", message: 'rule "key-account-platinum": must be integer' }]);

  const current = await hub.request("/v1/routing/ruleset");
  assert.equal(current.headers.get("etag"), '"1"');
  assert.deepEqual((await decide()).decision.matchedRules, ["pumps-eu"]);
});

test("shadowed rules are accepted with warnings", async () => {
  const shadowed = manufacturerRuleset();
  shadowed.rules.push({ name: "pumps-de-only", priority: 100, conditions: { all: [{ fact: "productLine", operator: "equal", value: "pumps" }, { fact: "region", operator: "equal", value: "DE" }] }, event: { type: "route", params: { businessLine: "pumps" } } });
  const res = await put(shadowed, '"1"');
  assert.equal(res.status, 200);
  const body = (await res.json()) as { version: number; warnings: { rule: string; pointer: string }[] };
  assert.equal(body.version, 2);
  assert.deepEqual(body.warnings.map((w) => [w.rule, w.pointer]), [["pumps-de-only", `/rules/${shadowed.rules.length - 1}`]]);
});

test("history, a single version, diff and rollback", async () => {
  const changed = manufacturerRuleset();
  const pumpsEu = changed.rules.find((rule) => rule.name === "pumps-eu");
  if (pumpsEu) pumpsEu.event.params.queue = "pumps-europe";
  changed.rules = changed.rules.filter((rule) => rule.name !== "lighting");
  const res = await put(changed, '"2"');
  assert.equal(res.status, 200);
  assert.equal((await decide()).decision.queue, "pumps-europe");

  const history = (await (await hub.request("/v1/routing/ruleset/versions", { scope: "read" })).json()) as { current: number; versions: { version: number; summary: string; createdBy: string; basedOn: number }[] };
  assert.equal(history.current, 3);
  assert.deepEqual(history.versions.map((v) => v.version), [0, 1, 2, 3]);
  assert.equal(history.versions[3]?.summary, "removed lighting, pumps-de-only; changed pumps-eu");
  assert.equal(history.versions[3]?.basedOn, 2);
  assert.match(history.versions[3]?.createdBy ?? "", /^[0-9a-f]{12}$/);

  const v1 = await hub.request("/v1/routing/ruleset/versions/1", { scope: "read" });
  assert.equal(v1.status, 200);
  assert.equal(v1.headers.get("etag"), '"1"');
  await expectProblem(await hub.request("/v1/routing/ruleset/versions/99", { scope: "read" }), 404, "not_found");

  const diff = await hub.request("/v1/routing/ruleset/diff?from=1&to=3", { scope: "read" });
  assert.equal(diff.status, 200);
  assert.deepEqual(await diff.json(), { from: 1, to: 3, added: [], removed: ["lighting"], changed: [{ name: "pumps-eu", fields: ["event"] }], reordered: [], defaultChanged: false, factsChanged: false });
  await expectProblem(await hub.request("/v1/routing/ruleset/diff?from=1", { scope: "read" }), 400, "validation_failed");

  const rollback = await hub.request("/v1/routing/ruleset/rollback", { method: "POST", json: { version: 1 } });
  assert.equal(rollback.status, 200);
  assert.equal(((await rollback.json()) as { version: number }).version, 4);
  const { decision } = await decide();
  assert.equal(decision.queue, "pumps-eu");
  assert.equal(decision.rulesetVersion, 4);
  await expectProblem(await hub.request("/v1/routing/ruleset/rollback", { method: "POST", json: { version: 1 }, headers: { "if-match": '"3"' } }), 412, "precondition_failed");
  await expectProblem(await hub.request("/v1/routing/ruleset/rollback", { method: "POST", json: { version: 77 } }), 404, "not_found");
});

test("decide with plain facts and a candidate ruleset; bad input answers problem+json", async () => {
  const candidate = manufacturerRuleset();
  candidate.rules = candidate.rules.filter((rule) => rule.name !== "pumps-eu");
  const res = await hub.request("/v1/routing/decide", { method: "POST", scope: "read", json: { facts: { productLine: "pumps", region: "DE", "customer.tier": "platinum" }, ruleset: candidate } });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { decision: { matchedRules: string[]; rulesetVersion: number }; trace: { rules: { name: string; matched: boolean }[] } };
  assert.deepEqual(body.decision.matchedRules, ["key-account-platinum"]);
  assert.equal(body.decision.rulesetVersion, -1);
  assert.equal(body.trace.rules.find((rule) => rule.name === "pumps")?.matched, true);
  await expectProblem(await hub.request("/v1/routing/decide", { method: "POST", scope: "read", json: {} }), 400, "validation_failed");
  const bad = manufacturerRuleset();
  (bad.rules[0]?.conditions.any?.[0] as { operator: string }).operator = "likes";
  await expectProblem(await hub.request("/v1/routing/decide", { method: "POST", scope: "read", json: { ...pumpsTicket, ruleset: bad } }), 422, "unprocessable");
  await expectProblem(await hub.request("/v1/routing/decide", { method: "POST", scope: "none", json: pumpsTicket }), 401, "unauthorized");
});

test("simulate against the active ruleset and against the reference engine", async () => {
  const candidate = manufacturerRuleset();
  const pumpsEu = candidate.rules.find((rule) => rule.name === "pumps-eu");
  if (pumpsEu) pumpsEu.event.params.agentGroup = "pumps-eu-l2";
  const events = [
    { id: "a", type: "ticket.created", data: { productLine: "pumps", region: "FR", subject: "noise" } },
    { id: "b", type: "ticket.created", data: { productLine: "valves", region: "FR", subject: "noise" } },
    { id: "c", type: "chat.session.opened", data: { productLine: "pumps", region: "IT", subject: "hi" } },
  ];
  const res = await hub.request("/v1/routing/simulate", { method: "POST", scope: "read", json: { ruleset: candidate, events } });
  assert.equal(res.status, 200);
  const report = (await res.json()) as { total: number; changed: number; changes: { eventId: string; fields: string[] }[]; activeVersion: number };
  assert.deepEqual([report.total, report.changed, report.activeVersion], [3, 2, 4]);
  assert.deepEqual(report.changes.map((c) => [c.eventId, c.fields]), [["a", ["agentGroup"]], ["c", ["agentGroup"]]]);

  const reference = await hub.request("/v1/routing/simulate", { method: "POST", scope: "read", json: { ruleset: candidate, events, against: "reference-engine" } });
  assert.equal(reference.status, 200);
  assert.equal(((await reference.json()) as { changed: number }).changed, 0);
  await expectProblem(await hub.request("/v1/routing/simulate", { method: "POST", scope: "read", json: { ruleset: candidate, events, last: 5 } }), 400, "validation_failed");
  await expectProblem(await hub.request("/v1/routing/simulate", { method: "POST", scope: "read", json: { events } }), 400, "validation_failed");
});
