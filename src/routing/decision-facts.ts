import type { HubEvent } from "../events/hub-event.ts";
import { isHubError } from "../http/errors.ts";
import { RECORD_KEYS, type FactContext, type FactDefinition, type PluginRecord } from "./facts.ts";

/** A plugin-backed fact not fetched yet: the evaluator fetches the rule's records and retries. */
export const PENDING: unique symbol = Symbol("pending");
/** A plugin-backed fact that could not be fetched in time: the rule's fallback applies. */
export const UNAVAILABLE: unique symbol = Symbol("unavailable");

/** Why a plugin record (and so each fact read from it) is unavailable: the HubError code, or `internal`, and its message. */
export interface UnavailableReason {
  code: string;
  detail: string;
}

/** Fetches one plugin record; rejects (HubError plugin_*) when it cannot within `timeoutMs`. */
export interface RecordFetcher {
  fetch(record: PluginRecord, id: string, timeoutMs: number): Promise<Record<string, unknown> | null>;
}

export interface DecisionFactsOptions {
  event: HubEvent;
  catalogue: ReadonlyMap<string, FactDefinition>;
  clock: FactContext;
  fetcher?: RecordFetcher;
  /** Epoch ms by which plugin facts must have arrived. */
  deadline: number;
  /** Values given by the caller (dry-run with plain facts); they win over the event. */
  provided?: Readonly<Record<string, unknown>>;
  /** Told of each record that could not be fetched, with the error when the fetcher rejected (logging). */
  onUnavailable?: (record: PluginRecord, reason: UnavailableReason, error?: unknown) => void;
}

/**
 * The facts of one decision, each computed at most once and only when a rule asks for it.
 * Plugin records are fetched only when a rule that reads them is reached.
 */
export class DecisionFacts {
  readonly #values = new Map<string, unknown>();
  readonly #records = new Map<PluginRecord, Record<string, unknown> | null | typeof UNAVAILABLE>();
  readonly #reasons = new Map<PluginRecord, UnavailableReason>();
  readonly #options: DecisionFactsOptions;
  /** Plugin-backed facts that were unavailable when a rule read them. */
  readonly unavailable = new Set<string>();

  constructor(options: DecisionFactsOptions) {
    this.#options = options;
    for (const [fact, value] of Object.entries(options.provided ?? {})) this.#values.set(fact, value);
  }

  get degraded(): boolean {
    return this.unavailable.size > 0;
  }

  /** Why each fact in {@link unavailable} was, for the dry-run trace. */
  unavailableReasons(): Record<string, UnavailableReason> {
    const reasons: Record<string, UnavailableReason> = {};
    for (const fact of [...this.unavailable].sort()) {
      const definition = this.#options.catalogue.get(fact);
      const reason = definition?.source === "plugin" ? this.#reasons.get(definition.record) : undefined;
      if (reason) reasons[fact] = reason;
    }
    return reasons;
  }

  value(fact: string): unknown {
    if (this.#values.has(fact)) return this.#values.get(fact);
    const definition = this.#options.catalogue.get(fact);
    if (!definition) return undefined;
    let value: unknown;
    if (definition.source === "plugin") {
      const record = this.#records.get(definition.record);
      if (record === undefined) return PENDING;
      if (record === UNAVAILABLE) return UNAVAILABLE;
      value = record === null ? undefined : definition.pick(record);
    } else {
      value = definition.read(this.#options.event, this.#options.clock);
    }
    this.#values.set(fact, value);
    return value;
  }

  /** Fetches the records not fetched yet, in parallel, until the decision's deadline. Never rejects. */
  async load(records: readonly PluginRecord[]): Promise<void> {
    const missing = records.filter((record) => !this.#records.has(record));
    await Promise.all(missing.map((record) => this.#loadOne(record)));
  }

  async #loadOne(record: PluginRecord): Promise<void> {
    const id = this.value(RECORD_KEYS[record].field);
    if (typeof id !== "string" && typeof id !== "number") {
      this.#records.set(record, null); // nothing to look up: the facts are simply absent
      return;
    }
    const remaining = this.#options.deadline - Date.now();
    const fetcher = this.#options.fetcher;
    if (!fetcher) return this.#unavailable(record, { code: "plugin_unavailable", detail: "the hub runs without a plugin host" });
    if (remaining <= 0) return this.#unavailable(record, { code: "plugin_timeout", detail: "the decision's deadline for plugin facts passed before this record was fetched" });
    try {
      this.#records.set(record, await fetcher.fetch(record, String(id), remaining));
    } catch (error) {
      // Not rethrown: a decision never fails for a plugin (rule fallbacks stand in and the decision
      // says degraded). The reason stays with the decision (the dry-run trace shows it) and goes to
      // whoever logs (onUnavailable).
      const reason = { code: isHubError(error) ? error.code : "internal", detail: (error as Error).message ?? String(error) };
      this.#unavailable(record, reason, error);
    }
  }

  #unavailable(record: PluginRecord, reason: UnavailableReason, error?: unknown): void {
    this.#records.set(record, UNAVAILABLE);
    this.#reasons.set(record, reason);
    this.#options.onUnavailable?.(record, reason, error);
  }
}
