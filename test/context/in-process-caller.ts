import type { Customer, Order, Payment, Shipment } from "../../src/connectors/business-types.ts";
import { HubError, type ErrorCode } from "../../src/http/errors.ts";
import { unservedError, type KindBinding, type PluginCallOptions, type PluginCaller, type PluginKind } from "../../src/plugins/plugin-caller.ts";

export interface Behaviour {
  /** Added before every answer. */
  latencyMs?: number;
  /** Every call rejects with this code (after the latency). */
  failWith?: ErrorCode;
}

type Method = "getOrder" | "getPayments" | "track" | "getCustomer";
const KIND_OF: Record<Method, PluginKind> = { getOrder: "orders", getPayments: "payments", track: "logistics", getCustomer: "crm" };

/**
 * A small, real PluginCaller of our own over in-memory records, for unit tests of the aggregator
 * without the plugin host: it honours `timeoutMs` as the host does (rejecting `plugin_timeout`),
 * answers `null` for unknown ids, and counts calls per method.
 */
export class InProcessCaller implements PluginCaller {
  readonly calls: Record<Method, number> = { getOrder: 0, getPayments: 0, track: 0, getCustomer: 0 };
  readonly behaviour: Partial<Record<PluginKind, Behaviour>> = {};
  readonly plugins: Partial<Record<PluginKind, string>> = { orders: "mem-orders", payments: "mem-payments", logistics: "mem-logistics", crm: "mem-crm" };
  readonly orders = new Map<string, Order>();
  readonly payments = new Map<string, Payment[]>();
  readonly shipments = new Map<string, Shipment[]>();
  readonly customers = new Map<string, Customer>();

  pluginFor(kind: PluginKind): string | undefined {
    return this.plugins[kind];
  }

  binding(kind: PluginKind): KindBinding {
    const plugin = this.plugins[kind];
    return plugin
      ? { kind, state: "served", plugin, candidates: [plugin], configured: null, detail: null }
      : { kind, state: "none", plugin: null, candidates: [], configured: null, detail: `no ${kind} plugin is loaded` };
  }

  set(kind: PluginKind, behaviour: Behaviour): void {
    this.behaviour[kind] = behaviour;
  }

  async call<T = unknown>(kind: PluginKind, method: string, input: unknown, options: PluginCallOptions = {}): Promise<T | null> {
    const plugin = this.plugins[kind];
    if (!plugin) throw unservedError(this.binding(kind));
    if (KIND_OF[method as Method] !== kind) throw new HubError("plugin_error", `${plugin} has no method ${method}`);
    this.calls[method as Method] += 1;
    const { latencyMs = 0, failWith } = this.behaviour[kind] ?? {};
    const timeoutMs = options.timeoutMs ?? Infinity;
    await new Promise((resolve) => setTimeout(resolve, Math.min(latencyMs, timeoutMs)));
    if (latencyMs > timeoutMs) throw new HubError("plugin_timeout", `${plugin}.${method} took longer than ${timeoutMs} ms`);
    if (failWith) throw new HubError(failWith, `${plugin}.${method} failed`);
    return this.#answer(method as Method, input as { orderId?: string; customerId?: string }) as T | null;
  }

  #answer(method: Method, { orderId = "", customerId = "" }: { orderId?: string; customerId?: string }): unknown {
    switch (method) {
      case "getOrder":
        return this.orders.get(orderId) ?? null;
      case "getPayments": {
        const payments = this.payments.get(orderId);
        return payments ? { orderId, payments } : null;
      }
      case "track": {
        const shipments = this.shipments.get(orderId);
        return shipments ? { orderId, shipments } : null;
      }
      case "getCustomer":
        return this.customers.get(customerId) ?? null;
    }
  }
}

/** A caller holding orders `SO-1`…`SO-n` of customers `C-1`…, each with one payment and one shipment. */
export function seededCaller(count = 3): InProcessCaller {
  const caller = new InProcessCaller();
  for (let i = 1; i <= count; i += 1) {
    const id = `SO-${i}`;
    const customerId = `C-${i}`;
    caller.orders.set(id, {
      id, status: "shipped", amount: 100 * i, currency: "CNY", customerId,
      items: [{ sku: `SKU-${i}`, name: `item ${i}`, quantity: 1, unitPrice: 100 * i }],
      createdAt: "2026-11-28T09:12:00Z", updatedAt: "2026-11-29T03:40:00Z",
    });
    caller.payments.set(id, [{ id: `PAY-${i}`, status: "succeeded", amount: 100 * i, currency: "CNY", method: "alipay", paidAt: "2026-11-28T09:13:00Z", refunds: [] }]);
    caller.shipments.set(id, [{ carrier: "SF Express", trackingNo: `SF${i}`, status: "in_transit", events: [] }]);
    caller.customers.set(customerId, { id: customerId, name: `customer ${i}`, tier: "gold", riskLevel: "low", tags: [], contacts: [] });
  }
  return caller;
}
