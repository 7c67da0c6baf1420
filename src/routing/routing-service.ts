import { readFile } from "node:fs/promises";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { HubEvent, RoutingDecision } from "../events/hub-event.ts";
import { HubError } from "../http/errors.ts";
import type { RulesetProblem } from "./compiled-ruleset.ts";
import { DecisionFacts, PENDING, UNAVAILABLE, type DecisionFactsOptions, type RecordFetcher } from "./decision-facts.ts";
import type { FactContext } from "./facts.ts";
import type { RecentEvents } from "./recent-events.ts";
import { createReferenceEngine, referencedFacts, type ReferenceEngine } from "./reference-engine.ts";
import type { ActiveRuleset, Explanation, Router } from "./router.ts";
import { toDecision } from "./router.ts";
import type { RulesetChecker } from "./ruleset-checker.ts";
import type { RulesetDocument } from "./ruleset.ts";
import { diffRulesets, summarizeDiff, canonical, type RulesetDiff } from "./ruleset-diff.ts";
import type { RulesetStore, StoredVersion, VersionMeta } from "./ruleset-store.ts";
import type { RulesetSync } from "./ruleset-sync.ts";
import { simulate, type SimulationReport } from "./simulate.ts";

export interface DryRunInput {
  event?: HubEvent;
  facts?: Record<string, unknown>;
  ruleset?: unknown;
}

export interface SimulateInput {
  ruleset: unknown;
  events?: HubEvent[];
  /** Use the last N routed events the hub kept. */
  last?: number;
  /** `active`: what would change against the active ruleset. `reference-engine`: the candidate decided by plain json-rules-engine. */
  against?: "active" | "reference-engine";
}

export interface RoutingServiceOptions {
  store: RulesetStore;
  router: Router;
  checker: RulesetChecker;
  sync: RulesetSync;
  recent: RecentEvents;
  clock: FactContext;
  fetcher?: RecordFetcher;
  factTimeoutMs: number;
  /** Told of each plugin record a decision could not fetch (logging). */
  onFactUnavailable?: DecisionFactsOptions["onUnavailable"];
  logger: Logger;
  /** Routing's Redis connections; each attempt to load waits for them to be ready. */
  connections: readonly Redis[];
  /**
   * A ruleset (checked already) made current at start. `differs` (KEFU_ROUTING_RULES): whenever it
   * differs from Redis's current one. `unset` (the demo's worked example): only while Redis holds
   * no ruleset yet, so that one activated through the API survives a restart.
   */
  seed?: RulesetSeed;
}

export interface RulesetSeed {
  file: string;
  document: RulesetDocument;
  /** @defaultValue "differs" */
  when?: "differs" | "unset";
}

/** What the routes call: versions, activation with compare-and-set, dry-run and simulation. */
export class RoutingService {
  readonly #o: RoutingServiceOptions;
  #loaded = false;
  #closed = false;

  constructor(options: RoutingServiceOptions) {
    this.#o = options;
  }

  /** Whether this instance has loaded Redis's current ruleset (and applied the seed) at least once. */
  get loaded(): boolean {
    return this.#loaded;
  }

  /**
   * Loads the current ruleset, applies the seed, and keeps retrying (with backoff) while Redis is
   * unreachable, so that the hub starts and reports "not ready" instead of hanging. Never rejects.
   */
  async start(): Promise<void> {
    for (let attempt = 0; !this.#closed; attempt++) {
      try {
        await Promise.all(this.#o.connections.map((connection) => whenReady(connection, 2000)));
        await this.#o.sync.start();
        if (this.#o.seed) await this.#seed(this.#o.seed);
        this.#loaded = true;
        return;
      } catch (error) {
        this.#o.logger.warn({ err: error, attempt }, "routing: cannot load the ruleset from Redis yet; retrying");
        await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** attempt, 10_000)).unref());
      }
    }
  }

  close(): Promise<void> {
    this.#closed = true;
    return this.#o.sync.close();
  }

  async current(): Promise<StoredVersion> {
    return this.version(await this.#o.store.currentVersion());
  }

  async version(version: number): Promise<StoredVersion> {
    const stored = await this.#o.store.get(version);
    if (!stored) throw new HubError("not_found", `there is no routing ruleset version ${version}`);
    return stored;
  }

  history(): Promise<VersionMeta[]> {
    return this.#o.store.history();
  }

  async diff(from: number, to: number): Promise<RulesetDiff> {
    const [a, b] = await Promise.all([this.version(from), this.version(to)]);
    return diffRulesets(a.ruleset, b.ruleset);
  }

  /** Validates, compiles and stores `document` as the new current version; 412 when `expected` is stale. */
  async activate(document: unknown, expected: number | "*", createdBy: string, summary?: string): Promise<{ version: number; warnings: RulesetProblem[] }> {
    const { compiled, warnings } = this.#o.checker.compileOrThrow(document);
    const previous = await this.current();
    const text = summary ?? summarizeDiff(diffRulesets(previous.ruleset, compiled.document));
    const result = await this.#o.store.activate({ ruleset: compiled.document, expected, createdBy, summary: text });
    if (!result.ok) {
      throw new HubError("precondition_failed", `the ruleset is at version ${result.current}, not ${String(expected)}; fetch it, reapply your change and send If-Match: "${result.current}"`, {
        extensions: { currentVersion: result.current },
      });
    }
    // This instance switches before answering; the others follow the published notice.
    if (result.version > this.#o.router.active().version) this.#o.router.swap({ version: result.version, compiled });
    await this.#o.sync.refresh();
    return { version: result.version, warnings };
  }

  async rollback(version: number, expected: number | "*", createdBy: string): Promise<{ version: number; warnings: RulesetProblem[] }> {
    const target = await this.version(version);
    return this.activate(target.ruleset, expected, createdBy, `rollback to version ${version}`);
  }

  async explain(input: DryRunInput): Promise<Explanation> {
    const ruleset = input.ruleset === undefined ? undefined : this.#candidate(input.ruleset);
    const event = input.event ?? syntheticEvent(input.facts ?? {});
    return this.#o.router.explain(event, { ...(ruleset ? { ruleset } : {}), ...(input.facts ? { facts: input.facts } : {}) });
  }

  async simulate(input: SimulateInput): Promise<SimulationReport & { baseline: string; activeVersion: number }> {
    const candidate = this.#candidate(input.ruleset);
    const events = input.events ?? (await this.#o.recent.list(input.last ?? 100));
    const active = this.#o.router.active();
    const against = input.against ?? "active";
    const reference = against === "reference-engine" ? createReferenceEngine(candidate.compiled.document) : undefined;
    const before = reference
      ? (event: HubEvent) => this.#referenceDecide(candidate, reference, event)
      : (event: HubEvent) => this.#o.router.decide(event, { ruleset: active });
    const report = await simulate({ events, before, after: (event) => this.#o.router.decide(event, { ruleset: candidate }) });
    return { ...report, baseline: against === "active" ? `active version ${active.version}` : "json-rules-engine (reference) with the candidate", activeVersion: active.version };
  }

  /** The candidate decided by plain json-rules-engine, fed every fact its rules read. */
  async #referenceDecide(candidate: ActiveRuleset, reference: ReferenceEngine, event: HubEvent): Promise<RoutingDecision> {
    const { fetcher, factTimeoutMs, clock, onFactUnavailable } = this.#o;
    const facts = new DecisionFacts({
      event, catalogue: candidate.compiled.facts, clock, deadline: Date.now() + factTimeoutMs,
      ...(fetcher ? { fetcher } : {}),
      ...(onFactUnavailable ? { onUnavailable: onFactUnavailable } : {}),
    });
    await facts.load([...new Set(candidate.compiled.rules.flatMap((rule) => rule.records))]);
    const values = Object.fromEntries(referencedFacts(candidate.compiled).map((fact) => [fact, plain(facts.value(fact))]));
    const name = await reference.decide(values);
    return toDecision(candidate, candidate.compiled.rules.find((rule) => rule.name === name), false);
  }

  #candidate(document: unknown): ActiveRuleset {
    return { version: -1, compiled: this.#o.checker.compileOrThrow(document, "the candidate ruleset").compiled };
  }

  async #seed({ file, document, when = "differs" }: RulesetSeed): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = await this.current();
      if (canonical(current.ruleset) === canonical(document)) return;
      if (when === "unset" && current.version !== 0) return;
      try {
        const { version } = await this.activate(document, current.version, `file:${file}`);
        if (when === "unset") this.#o.logger.info({ version, file }, `routing: the worked example ${file} is active (the demo's ruleset; try POST /v1/routing/decide, see the README)`);
        else this.#o.logger.info({ version, file }, "routing ruleset seeded from KEFU_ROUTING_RULES");
        return;
      } catch (error) {
        if ((error as HubError).code !== "precondition_failed") throw error;
      }
    }
  }
}

/**
 * Routing's connections run without an offline queue (a command on a disconnected connection
 * fails at once instead of piling up and holding `quit()`), so wait for the connection first.
 */
function whenReady(connection: Redis, ms: number): Promise<void> {
  if (connection.status === "ready") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      connection.off("ready", onReady);
      reject(new Error(`redis is ${connection.status}`));
    }, ms);
    const onReady = (): void => {
      clearTimeout(timer);
      resolve();
    };
    connection.once("ready", onReady);
  });
}

/** Reads and checks a KEFU_ROUTING_RULES file; throws (stopping the start) when it is not a valid ruleset. */
export async function readSeedFile(checker: RulesetChecker, file: string): Promise<RulesetSeed> {
  let document: unknown;
  try {
    document = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new Error(`KEFU_ROUTING_RULES=${file}: cannot read a JSON ruleset (${(error as Error).message})`, { cause: error });
  }
  return { file, document: checker.compileOrThrow(document, `KEFU_ROUTING_RULES=${file}`).compiled.document };
}

function plain(value: unknown): unknown {
  return value === PENDING || value === UNAVAILABLE ? undefined : value;
}

function syntheticEvent(facts: Record<string, unknown>): HubEvent {
  return {
    id: "dry-run",
    type: typeof facts["type"] === "string" ? facts["type"] : "ticket.created",
    occurredAt: typeof facts["occurredAt"] === "string" ? facts["occurredAt"] : new Date().toISOString(),
    source: typeof facts["source"] === "string" ? facts["source"] : "dry-run",
    priority: "normal",
    data: facts,
  };
}
