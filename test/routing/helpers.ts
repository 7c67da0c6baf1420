import { hubPaths } from "../../src/paths.ts";
import type { HubEvent } from "../../src/events/hub-event.ts";
import { createClock } from "../../src/routing/facts.ts";
import { createRouter, type Router, type RouterOptions } from "../../src/routing/router.ts";
import { createRulesetChecker, type RulesetChecker } from "../../src/routing/ruleset-checker.ts";
import type { RecordFetcher } from "../../src/routing/decision-facts.ts";
import type { RulesetDocument } from "../../src/routing/ruleset.ts";
import { createSchemaRegistry } from "../../src/schemas/schema-registry.ts";

export function checker(): RulesetChecker {
  return createRulesetChecker(createSchemaRegistry(hubPaths().schemas));
}

export function routerFor(
  document: RulesetDocument,
  options: { fetcher?: RecordFetcher; factTimeoutMs?: number; timezone?: string; version?: number; onFactUnavailable?: RouterOptions["onFactUnavailable"] } = {},
): Router {
  const { compiled } = checker().compileOrThrow(document);
  return createRouter({
    initial: { version: options.version ?? 1, compiled },
    clock: createClock(options.timezone ?? "UTC"),
    ...(options.fetcher ? { fetcher: options.fetcher } : {}),
    factTimeoutMs: options.factTimeoutMs ?? 200,
    ...(options.onFactUnavailable ? { onFactUnavailable: options.onFactUnavailable } : {}),
  });
}

export function ticket(data: Record<string, unknown>, overrides: Partial<HubEvent> = {}): HubEvent {
  return { id: `t-${Math.random().toString(36).slice(2)}`, type: "ticket.created", occurredAt: "2026-11-30T03:00:00Z", source: "test", priority: "normal", data, ...overrides };
}
