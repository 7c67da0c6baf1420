import { HubError } from "../http/errors.ts";
import type { SingleFlight } from "../resilience/single-flight.ts";
import type { SwrCache } from "../resilience/swr-cache.ts";
import { createDeadline, type Deadline } from "../resilience/timeout.ts";
import type { Customer, Order, Payment, Shipment } from "./business-types.ts";
import type { Connectors } from "./connectors.ts";
import type { ContextMetrics, ContextOutcome } from "./context-metrics.ts";
import { customerPart, orderParts, PART_NAMES, partKey, type PartName } from "./context-parts.ts";
import type { DegradedReason, PartFetcher, PartOutcome, PartSource } from "./part-fetcher.ts";

export interface ContextTimeouts {
  /** Longest wait for one part. @defaultValue 800 */
  partTimeoutMs: number;
  /** Longest wait for the whole answer, the customer lookup after the order included. @defaultValue 1500 */
  deadlineMs: number;
}

export interface ContextRequest {
  orderId: string;
  /** Parts to fetch; all of them when omitted. */
  parts?: readonly PartName[];
  /** Lets the customer be fetched at once, alongside the order, instead of after it. */
  customerId?: string;
}

export interface DegradedPart {
  part: PartName;
  reason: DegradedReason;
}

/** The answer of `GET /v1/orders/{orderId}/context`; a part not asked for is absent. */
export interface OrderContext {
  orderId: string;
  order?: Order | null;
  payments?: Payment[] | null;
  shipments?: Shipment[] | null;
  customer?: Customer | null;
  degraded: DegradedPart[];
  sources: Partial<Record<PartName, PartSource>>;
}

export interface CustomerAnswer {
  customer: Customer;
  sources: { customer: PartSource };
}

export interface OrderContextService {
  /** The answer as JSON when every part asked for is fresh in this process, else undefined (see hot-context.ts). */
  hotContext(request: ContextRequest): Buffer | undefined;
  /** Rejects with HubError `not_found` when the orders plugin does not know the order. */
  getContext(request: ContextRequest): Promise<OrderContext>;
  /** Rejects with `not_found`, or with the `plugin_*` code of why the CRM could not answer. */
  getCustomer(customerId: string): Promise<CustomerAnswer>;
  /** Drops the cached parts of an order (and, with `includeCustomer`, its customer's). */
  invalidateOrder(orderId: string, options?: { includeCustomer?: boolean }): Promise<void>;
}

export interface OrderContextOptions {
  connectors: Connectors;
  fetchPart: PartFetcher;
  cache: SwrCache;
  flights: SingleFlight<unknown>;
  timeouts: ContextTimeouts;
  metrics?: ContextMetrics;
  /** `Retry-After` of a customer answer refused by an open breaker: about when it probes again. @defaultValue 10 */
  retryAfterSeconds?: number;
  /** Told of every invalidation made here (to tell other hub instances). */
  onInvalidate?: (keys: string[]) => Promise<void>;
  /** The synchronous hot path; none: every request takes the full path. */
  hot?: (request: ContextRequest) => Buffer | undefined;
}

/** The order-context aggregator: every part concurrently, each within its budget, degraded rather than failed. */
export function createOrderContextService(options: OrderContextOptions): OrderContextService {
  const { connectors, fetchPart, cache, flights, timeouts, metrics } = options;
  const retryAfterSeconds = options.retryAfterSeconds ?? 10;
  const budget = (deadline: Deadline): number => Math.min(timeouts.partTimeoutMs, deadline.remainingMs());

  const measured = async <T>(work: () => Promise<T>, outcomeOf: (value: T) => ContextOutcome): Promise<T> => {
    const started = performance.now();
    let outcome: ContextOutcome = "error";
    try {
      const value = await work();
      outcome = outcomeOf(value);
      return value;
    } catch (error) {
      if ((error as { code?: unknown }).code === "not_found") outcome = "not_found";
      throw error;
    } finally {
      metrics?.observe(outcome, (performance.now() - started) / 1000);
    }
  };

  const getContext = async ({ orderId, parts = PART_NAMES, customerId }: ContextRequest): Promise<OrderContext> => {
    const deadline = createDeadline(timeouts.deadlineMs);
    const wanted = new Set(parts);
    const specs = orderParts(connectors, orderId);
    const needOrder = wanted.has("order") || (wanted.has("customer") && !customerId);
    const order = needOrder ? fetchPart(specs.order, budget(deadline)) : undefined;
    const payments = wanted.has("payments") ? fetchPart(specs.payments, budget(deadline)) : undefined;
    const shipments = wanted.has("shipments") ? fetchPart(specs.shipments, budget(deadline)) : undefined;
    let customer: Promise<PartOutcome<"customer">> | undefined;
    if (wanted.has("customer")) {
      customer = customerId
        ? fetchPart(customerPart(connectors, customerId), budget(deadline))
        : order!.then((found) => {
            if (!found.ok || !found.value) return dependentFailure(found.source.plugin);
            return fetchPart(customerPart(connectors, found.value.customerId), budget(deadline));
          });
    }
    const results = { order: await order, payments: await payments, shipments: await shipments, customer: await customer };
    if (results.order?.ok && results.order.value === null) {
      throw new HubError("not_found", `order ${orderId} is not known to the orders plugin (${results.order.source.plugin})`);
    }
    return assemble(orderId, wanted, results);
  };

  return {
    hotContext: options.hot ?? (() => undefined),
    getContext: (request) => measured(() => getContext(request), (context) => (context.degraded.length > 0 ? "degraded" : "complete")),
    getCustomer: (customerId) =>
      measured(async () => {
        const outcome = await fetchPart(customerPart(connectors, customerId), budget(createDeadline(timeouts.deadlineMs)));
        if (!outcome.ok) throw customerError(customerId, outcome, retryAfterSeconds);
        if (!outcome.value) throw new HubError("not_found", `customer ${customerId} is not known to the CRM plugin (${outcome.source.plugin})`);
        return { customer: outcome.value, sources: { customer: outcome.source } };
      }, () => "complete"),
    async invalidateOrder(orderId, { includeCustomer = false } = {}) {
      const keys = (["order", "payments", "shipments"] as const).map((part) => partKey(part, orderId));
      if (includeCustomer) {
        const cachedOrder = cache.peek<Order | null>(partKey("order", orderId), { ttlMs: Infinity, maxStaleMs: 0 });
        if (cachedOrder?.value) keys.push(partKey("customer", cachedOrder.value.customerId));
      }
      for (const key of keys) flights.forget(key);
      await cache.invalidate(keys);
      await options.onInvalidate?.(keys);
    },
  };
}

type Results = { [P in PartName]?: PartOutcome<P> };
type Failure = Extract<PartOutcome<"customer">, { ok: false }>;

function assemble(orderId: string, wanted: ReadonlySet<PartName>, results: Results): OrderContext {
  // Built in the order a person reads it: the parts first, then what went wrong and where each came from.
  const parts: Partial<Record<PartName, unknown>> = {};
  const degraded: DegradedPart[] = [];
  const sources: OrderContext["sources"] = {};
  for (const part of PART_NAMES) {
    const outcome = results[part];
    if (!wanted.has(part) || !outcome) continue;
    sources[part] = outcome.source;
    parts[part] = outcome.ok ? outcome.value : null;
    if (!outcome.ok) degraded.push({ part, reason: outcome.reason });
  }
  return { orderId, ...parts, degraded, sources } as OrderContext;
}

/** The customer could not be looked up because the order that names it is missing. */
function dependentFailure(plugin: string | null): PartOutcome<"customer"> {
  return { ok: false, reason: "order_unavailable", source: { plugin, cache: "miss", ageMs: 0, durationMs: 0 } };
}

function customerError(customerId: string, { reason, source, detail }: Failure, retryAfterSeconds: number): HubError {
  const where = `the CRM plugin (${source.plugin ?? "none loaded"})`;
  switch (reason) {
    case "plugin_ambiguous":
      return new HubError("plugin_ambiguous", `cannot look up customer ${customerId}: ${detail ?? "several CRM plugins are loaded and none is chosen"}`);
    case "timeout":
    case "plugin_timeout":
      return new HubError("plugin_timeout", `${where} did not answer for customer ${customerId} in time`);
    case "circuit_open":
      return new HubError("plugin_unavailable", `${where} is failing; its circuit breaker is open`, { headers: { "retry-after": String(retryAfterSeconds) } });
    case "plugin_unavailable":
      // No plugin at all (detail says why) is worth more than "none loaded" when the cause is a binding.
      return new HubError(reason, detail ? `cannot look up customer ${customerId}: ${detail}` : `${where} could not answer for customer ${customerId}`);
    case "plugin_error":
    case "plugin_output_invalid":
      return new HubError(reason, `${where} could not answer for customer ${customerId}`);
    default:
      return new HubError("internal", `looking up customer ${customerId} failed`);
  }
}
