import assert from "node:assert/strict";
import { test } from "node:test";
import pino from "pino";
import type { HubEvent } from "../../src/events/hub-event.ts";
import { HubError } from "../../src/http/errors.ts";
import type { PluginCaller, PluginKind } from "../../src/plugins/plugin-caller.ts";
import { createPluginRecordFetcher } from "../../src/routing/plugin-records.ts";
import type { Router } from "../../src/routing/router.ts";
import { createRoutingEnricher, higherPriority } from "../../src/routing/routing-enricher.ts";
import { manufacturerRuleset } from "./fixtures/generate.ts";
import { routerFor, ticket } from "./helpers.ts";

const silent = pino({ level: "silent" });

/** An in-process PluginCaller (our own interface) whose answers the test decides. */
function fakePlugins(answer: (kind: PluginKind, input: Record<string, string>) => Promise<unknown>): PluginCaller & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    pluginFor: (kind) => (kind === "crm" || kind === "orders" ? `demo-${kind}` : undefined),
    binding: (kind) => ({ kind, state: "served", plugin: `demo-${kind}`, candidates: [`demo-${kind}`], configured: null, detail: null }),
    call<T>(kind: PluginKind, method: string, input: unknown) {
      calls.push(`${kind}.${method}(${JSON.stringify(input)})`);
      return answer(kind, input as Record<string, string>) as Promise<T | null>;
    },
  };
}

test("the manufacturer example routes by product line, region, language, keywords and declared facts", async () => {
  const router = routerFor(manufacturerRuleset());
  const decide = async (data: Record<string, unknown>, overrides: Partial<HubEvent> = {}) => (await router.decide(ticket(data, overrides))).matchedRules[0];
  assert.equal(await decide({ productLine: "pumps", region: "DE", subject: "Pump leaking" }), "pumps-eu");
  assert.equal(await decide({ productLine: "pumps", region: "ZA", subject: "Pump leaking" }), "pumps");
  assert.equal(await decide({ productLine: "valves", subject: "Smoke coming out of the actuator" }), "safety-incident");
  assert.equal(await decide({ subject: "设备冒烟了" }), "safety-incident");
  assert.equal(await decide({ subject: "Where is the invoice for SO-1?" }), "billing");
  assert.equal(await decide({ subject: "请帮忙", language: "zh-CN" }), "chinese-language");
  assert.equal(await decide({ subject: "Warranty question", warranty: { years: 6 }, productLine: "motors" }), "warranty-extended");
  assert.equal(await decide({ subject: "Warranty question", warranty: { years: 2 }, productLine: "motors" }), "motors");
  const fallback = await router.decide(ticket({ subject: "hello" }));
  assert.deepEqual(fallback, { businessLine: "general", queue: "general", agentGroup: "front-desk", priority: "normal", tags: [], slaMinutes: 480, matchedRules: [], rulesetVersion: 1, degraded: false });
});

test("hourOfDay and weekday are computed from occurredAt in KEFU_TIMEZONE", async () => {
  const chat = (occurredAt: string): HubEvent => ticket({ subject: "hi" }, { type: "chat.session.opened", occurredAt });
  const shanghai = routerFor(manufacturerRuleset(), { timezone: "Asia/Shanghai" });
  const utc = routerFor(manufacturerRuleset(), { timezone: "UTC" });
  // Monday 2026-11-30 03:00 UTC is 11:00 in Shanghai (office hours) and 03:00 in UTC (night).
  assert.deepEqual((await shanghai.decide(chat("2026-11-30T03:00:00Z"))).matchedRules, []);
  assert.deepEqual((await utc.decide(chat("2026-11-30T03:00:00Z"))).matchedRules, ["after-hours-chat"]);
  // Saturday noon.
  assert.deepEqual((await shanghai.decide(chat("2026-11-28T04:00:00Z"))).matchedRules, ["after-hours-chat"]);
});

test("ties in priority go to the rule that comes first in the document", async () => {
  const params = (businessLine: string) => ({ type: "route" as const, params: { businessLine } });
  const router = routerFor({
    default: { businessLine: "general", queue: "q", agentGroup: "g", priority: "normal", slaMinutes: 60 },
    rules: [
      { name: "low", priority: 1, conditions: { all: [] }, event: params("low") },
      { name: "first", priority: 5, conditions: { all: [{ fact: "region", operator: "equal", value: "DE" }] }, event: params("first") },
      { name: "second", priority: 5, conditions: { all: [{ fact: "productLine", operator: "equal", value: "pumps" }] }, event: params("second") },
    ],
  });
  assert.equal((await router.decide(ticket({ region: "DE", productLine: "pumps" }))).businessLine, "first");
  assert.equal((await router.decide(ticket({ productLine: "pumps" }))).businessLine, "second");
  assert.equal((await router.decide(ticket({}))).businessLine, "low");
});

test("plugin-backed facts are fetched only when a rule reached needs them, once, and cached", async () => {
  const plugins = fakePlugins(async (kind) => (kind === "crm" ? { id: "C-1", tier: "platinum", riskLevel: "low" } : { id: "O-1", amount: 250000, status: "paid" }));
  const router = routerFor(manufacturerRuleset(), { fetcher: createPluginRecordFetcher({ caller: plugins }) });
  // The safety rule decides before any customer rule is reached: no plugin call.
  assert.deepEqual((await router.decide(ticket({ subject: "fire!", customerId: "C-1" }))).matchedRules, ["safety-incident"]);
  assert.deepEqual(plugins.calls, []);
  const decision = await router.decide(ticket({ subject: "hello", customerId: "C-1", orderId: "O-1" }));
  assert.deepEqual(decision.matchedRules, ["key-account-platinum"]);
  assert.equal(decision.degraded, false);
  assert.deepEqual(plugins.calls, ['crm.getCustomer({"customerId":"C-1"})']);
  await router.decide(ticket({ subject: "hello", customerId: "C-1" }));
  assert.equal(plugins.calls.length, 1, "the customer record was cached");
});

test("a crm fact whose plugin never answers yields a degraded decision within the deadline, using the rule's fallback", async () => {
  const plugins = fakePlugins(() => new Promise(() => {}));
  const router = routerFor(manufacturerRuleset(), { fetcher: createPluginRecordFetcher({ caller: plugins }), factTimeoutMs: 150 });
  const started = performance.now();
  const decision = await router.decide(ticket({ subject: "hello", productLine: "pumps", region: "FR", customerId: "C-9" }));
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 1000, `took ${elapsed} ms`);
  assert.ok(elapsed >= 140, `the deadline was honoured (${elapsed} ms)`);
  assert.equal(decision.degraded, true);
  assert.deepEqual(decision.matchedRules, ["pumps-eu"], "platinum fallback 'regular' did not match; routing went on");
});

test("a plugin that rejects with plugin_timeout, or no plugin at all, degrades instead of failing", async () => {
  const rejecting = fakePlugins(() => Promise.reject(new HubError("plugin_timeout", "too slow")));
  const router = routerFor(manufacturerRuleset(), { fetcher: createPluginRecordFetcher({ caller: rejecting }) });
  const decision = await router.decide(ticket({ subject: "hello", customerId: "C-9" }));
  assert.equal(decision.degraded, true);
  assert.deepEqual(decision.matchedRules, []);
  const none = routerFor(manufacturerRuleset(), { fetcher: createPluginRecordFetcher({}) });
  assert.equal((await none.decide(ticket({ subject: "hello", customerId: "C-9" }))).degraded, true);
  // Without a customer id there is nothing to look up: not degraded, just absent.
  assert.equal((await none.decide(ticket({ subject: "hello" }))).degraded, false);
});

test("an unavailable plugin fact keeps its reason: the dry-run trace shows it and the router reports it", async () => {
  const reported: { record: string; code: string; error: unknown }[] = [];
  const onFactUnavailable = (record: string, reason: { code: string }, error?: unknown): void => void reported.push({ record, code: reason.code, error });
  const rejecting = fakePlugins(() => Promise.reject(new HubError("plugin_error", "plugin demo-crm getCustomer() failed: Error: CRM answered 500")));
  const router = routerFor(manufacturerRuleset(), { fetcher: createPluginRecordFetcher({ caller: rejecting }), onFactUnavailable });
  const { decision, trace } = await router.explain(ticket({ subject: "hello", customerId: "C-9" }));
  assert.equal(decision.degraded, true);
  assert.deepEqual(trace.unavailableReasons["customer.tier"], { code: "plugin_error", detail: "plugin demo-crm getCustomer() failed: Error: CRM answered 500" });
  assert.ok(reported.some((entry) => entry.record === "customer" && entry.code === "plugin_error" && entry.error instanceof HubError));
  // A bug in a fetcher is not a HubError: it is reported as `internal`, with the error itself.
  const buggy = routerFor(manufacturerRuleset(), { fetcher: { fetch: () => Promise.reject(new TypeError("x is not a function")) }, onFactUnavailable });
  const traced = await buggy.explain(ticket({ subject: "hello", customerId: "C-9" }));
  assert.deepEqual(traced.trace.unavailableReasons["customer.tier"], { code: "internal", detail: "x is not a function" });
  assert.ok(reported.some((entry) => entry.code === "internal" && entry.error instanceof TypeError));
});

test("the dry-run trace shows every rule, matched or not, and each condition's fact value", async () => {
  const router = routerFor(manufacturerRuleset());
  const { decision, trace } = await router.explain(ticket({ productLine: "pumps", region: "DE", subject: "Pump leaking" }));
  assert.deepEqual(decision.matchedRules, ["pumps-eu"]);
  assert.equal(trace.rules.length, manufacturerRuleset().rules.length);
  const pumps = trace.rules.find((r) => r.name === "pumps-eu");
  assert.equal(pumps?.decided, true);
  assert.deepEqual(pumps?.conditions, {
    all: [
      { fact: "productLine", operator: "equal", value: "pumps", factValue: "pumps", result: true },
      { fact: "region", operator: "in", value: ["DE", "FR", "IT", "ES", "NL", "PL", "AT", "CH", "SE", "GB"], factValue: "DE", result: true },
    ],
    result: true,
  });
  assert.equal(trace.rules.find((r) => r.name === "pumps")?.matched, true, "lower rules that also match are shown");
  assert.equal(trace.rules.find((r) => r.name === "pumps")?.decided, false);
  assert.equal(trace.facts["productLine"], "pumps");
});

test("a swap is atomic: a decision in flight finishes on the ruleset it started with", async () => {
  let release: (value: unknown) => void = () => {};
  const plugins = fakePlugins(() => new Promise((resolve) => (release = resolve)));
  const router = routerFor(manufacturerRuleset(), { fetcher: createPluginRecordFetcher({ caller: plugins }), factTimeoutMs: 5000, version: 1 });
  const inFlight = router.decide(ticket({ subject: "hello", customerId: "C-1" }));
  const next = routerFor({ default: { businessLine: "other", queue: "q", agentGroup: "g", priority: "low", slaMinutes: 5 }, rules: [] }, { version: 2 });
  router.swap(next.active());
  release({ tier: "platinum" });
  const decision = await inFlight;
  assert.equal(decision.rulesetVersion, 1);
  assert.deepEqual(decision.matchedRules, ["key-account-platinum"]);
  assert.equal((await router.decide(ticket({ subject: "hello" }))).rulesetVersion, 2);
});

test("the enricher routes ticket and chat events, raises their priority, and leaves others alone", async () => {
  const enrich = createRoutingEnricher({ router: routerFor(manufacturerRuleset()), logger: silent });
  const routed = await enrich(ticket({ subject: "smoke from the pump" }, { priority: "low" }));
  assert.equal(routed.routing?.businessLine, "safety");
  assert.equal(routed.priority, "urgent");
  const kept = await enrich(ticket({ subject: "invoice" }, { priority: "high" }));
  assert.equal(kept.routing?.priority, "normal");
  assert.equal(kept.priority, "high", "a lower routing priority never lowers the event's");
  const message = ticket({ subject: "fire" }, { type: "chat.message.created" });
  assert.equal(await enrich(message), message);
  assert.equal(higherPriority("normal", "high"), "high");
});

test("the enricher never throws: a failing router yields the default route marked degraded", async () => {
  const healthy = routerFor(manufacturerRuleset());
  const broken: Router = { ...healthy, decide: () => Promise.reject(new Error("boom")) };
  const routed = await createRoutingEnricher({ router: broken, logger: silent })(ticket({ subject: "x" }));
  assert.equal(routed.routing?.degraded, true);
  assert.equal(routed.routing?.queue, "general");
});
