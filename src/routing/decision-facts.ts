import type { HubEvent } from "../events/hub-event.ts";
import { RECORD_KEYS, type Clock, type FactDefinition, type PluginRecord } from "./facts.ts";

/** A plugin-backed fact not fetched yet: the evaluator fetches the rule's records and retries. */
export const PENDING: unique symbol = Symbol("pending");
/** A plugin-backed fact that could not be fetched in time: the rule's fallback applies. */
export const UNAVAILABLE: unique symbol = Symbol("unavailable");

/** Fetches one plugin record; rejects (HubError plugin_*) when it cannot within `timeoutMs`. */
export interface RecordFetcher {
  fetch(record: PluginRecord, id: string, timeoutMs: number): Promise<Record<string, unknown> | null>;
}

export interface DecisionFactsOptions {
  event: HubEvent;
  catalogue: ReadonlyMap<string, FactDefinition>;
  clock: Clock;
  fetcher?: RecordFetcher;
  /** Epoch ms by which plugin facts must have arrived. */
  deadline: number;
  /** Values given by the caller (dry-run with plain facts); they win over the event. */
  provided?: Readonly<Record<string, unknown>>;
}

/**
 * The facts of one decision, each computed at most once and only when a rule asks for it.
 * Plugin records are fetched only when a rule that reads them is reached.
 */
export class DecisionFacts {
  readonly #values = new Map<string, unknown>();
  readonly #records = new Map<PluginRecord, Record<string, unknown> | null | typeof UNAVAILABLE>();
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
    if (!fetcher || remaining <= 0) {
      this.#records.set(record, UNAVAILABLE);
      return;
    }
    try {
      this.#records.set(record, await fetcher.fetch(record, String(id), remaining));
    } catch {
      this.#records.set(record, UNAVAILABLE);
    }
  }
}
