import type { HubEvent } from "../events/hub-event.ts";

export type FactType = "string" | "number" | "array" | "object" | "any";

/** Records fetched from a plugin, one call each, shared by the facts read from them. */
export type PluginRecord = "customer" | "order";

export interface EventFact {
  source: "event" | "derived";
  type: FactType;
  description: string;
  read(event: HubEvent, context: FactContext): unknown;
}

export interface PluginFact {
  source: "plugin";
  type: FactType;
  description: string;
  record: PluginRecord;
  /** The fact's value inside the plugin's answer. */
  pick(record: Record<string, unknown>): unknown;
}

export type FactDefinition = EventFact | PluginFact;

/** Hour and weekday of an instant in the hub's time zone (KEFU_TIMEZONE). */
export interface Clock {
  hourOfDay(iso: string): number | undefined;
  weekday(iso: string): string | undefined;
}

const WEEKDAYS: Record<string, string> = { Mon: "mon", Tue: "tue", Wed: "wed", Thu: "thu", Fri: "fri", Sat: "sat", Sun: "sun" };

/**
 * What derived facts read besides the event: the hub's clock and, when sessions are wired
 * (src/app.ts), the live context of a session.
 */
export interface FactContext extends Clock {
  session?(sessionId: string): Record<string, unknown> | undefined;
}

function sessionOf(event: HubEvent, context: FactContext): Record<string, unknown> | undefined {
  const sessionId = event.data["sessionId"];
  return typeof sessionId === "string" ? context.session?.(sessionId) : undefined;
}

export function createClock(timeZone: string): Clock {
  // One formatter per hub: constructing Intl formatters is the expensive part.
  const format = new Intl.DateTimeFormat("en-US", { timeZone, hour: "numeric", hourCycle: "h23", weekday: "short" });
  const parts = (iso: string): Intl.DateTimeFormatPart[] | undefined => {
    const time = Date.parse(iso);
    return Number.isNaN(time) ? undefined : format.formatToParts(time);
  };
  return {
    hourOfDay(iso) {
      const hour = parts(iso)?.find((part) => part.type === "hour")?.value;
      return hour === undefined ? undefined : Number(hour);
    },
    weekday(iso) {
      const day = parts(iso)?.find((part) => part.type === "weekday")?.value;
      return day === undefined ? undefined : WEEKDAYS[day];
    },
  };
}

/** Throws a RangeError for a time zone Intl does not know. */
export function assertTimeZone(timeZone: string): void {
  new Intl.DateTimeFormat("en-US", { timeZone });
}

const dataField = (field: string, type: FactType, description: string): EventFact => ({
  source: "event",
  type,
  description,
  read: (event) => event.data[field],
});

const pluginField = (record: PluginRecord, type: FactType, description: string, ...fields: string[]): PluginFact => ({
  source: "plugin",
  type,
  description,
  record,
  pick: (value) => {
    for (const field of fields) {
      const found = readDotted(value, field);
      if (found !== undefined) return found;
    }
    return undefined;
  },
});

/**
 * The facts every ruleset may use (docs/routing.md lists them). A ruleset adds its own event facts
 * under `facts`; a rule naming any other fact is refused when the ruleset is compiled.
 */
export const BUILT_IN_FACTS: Readonly<Record<string, FactDefinition>> = {
  type: { source: "event", type: "string", description: "event type, e.g. ticket.created", read: (event) => event.type },
  source: { source: "event", type: "string", description: "the system that sent the event", read: (event) => event.source },
  eventPriority: { source: "event", type: "string", description: "the event's own priority", read: (event) => event.priority },
  data: { source: "event", type: "object", description: "the whole `data` object (use with `path`)", read: (event) => event.data },
  subject: {
    source: "event",
    type: "string",
    description: "ticket subject (ticket.updated: the new one, when it changed)",
    read: (event) => event.data["subject"] ?? readDotted(event.data, "changes.subject"),
  },
  description: dataField("description", "string", "ticket description"),
  category: dataField("category", "string", "ticket category set by the helpdesk"),
  channel: dataField("channel", "string", "email, web, phone, wechat, …"),
  language: dataField("language", "string", "BCP 47 language tag, e.g. de, zh-CN"),
  region: dataField("region", "string", "sales region or country code"),
  productLine: dataField("productLine", "string", "product line the customer asks about"),
  customerId: {
    source: "event",
    type: "string",
    description: "the customer's id in the CRM (`data.customer.id`, or `data.customerId`)",
    read: (event) => readDotted(event.data, "customer.id") ?? event.data["customerId"],
  },
  orderId: dataField("orderId", "string", "the order the ticket is about"),
  tags: dataField("tags", "array", "tags set by the sender"),
  hourOfDay: { source: "derived", type: "number", description: "0–23, from occurredAt in KEFU_TIMEZONE", read: (event, clock) => clock.hourOfDay(event.occurredAt) },
  weekday: { source: "derived", type: "string", description: "mon … sun, from occurredAt in KEFU_TIMEZONE", read: (event, clock) => clock.weekday(event.occurredAt) },
  session: {
    source: "derived",
    type: "object",
    description: "the live context of the session in data.sessionId (docs/sessions.md), use with path, e.g. $.behavior.counters.paymentFailed10m",
    read: (event, context) => sessionOf(event, context),
  },
  "session.risk.level": {
    source: "derived",
    type: "string",
    description: "low, medium or high: the risk of the session in data.sessionId",
    read: (event, context) => readDotted(sessionOf(event, context), "risk.level"),
  },
  "session.counters": {
    source: "derived",
    type: "object",
    description: "the counters of the session in data.sessionId, by name (use with path)",
    read: (event, context) => readDotted(sessionOf(event, context), "behavior.counters"),
  },
  "customer.tier": pluginField("customer", "string", "crm plugin: the customer's tier", "tier"),
  "customer.riskLevel": pluginField("customer", "string", "crm plugin: the customer's risk level", "riskLevel"),
  "order.amount": pluginField("order", "number", "orders plugin: the order total in major units of its currency", "amount"),
  "order.currency": pluginField("order", "string", "orders plugin: the order's ISO 4217 currency", "currency"),
  "order.status": pluginField("order", "string", "orders plugin: the order status", "status"),
};

/** Which event field holds the id a plugin record is looked up by. */
export const RECORD_KEYS: Readonly<Record<PluginRecord, { field: string; kind: "crm" | "orders"; method: string; input: string }>> = {
  customer: { field: "customerId", kind: "crm", method: "getCustomer", input: "customerId" },
  order: { field: "orderId", kind: "orders", method: "getOrder", input: "orderId" },
};

function readDotted(value: unknown, dotted: string): unknown {
  let current = value;
  for (const key of dotted.split(".")) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Steps of a simple JSONPath (`$.a.b[0]`), as the schema allows it. */
export function parsePath(path: string): (string | number)[] {
  const steps: (string | number)[] = [];
  for (const match of path.slice(1).matchAll(/\.([A-Za-z_][A-Za-z0-9_]*)|\[([0-9]+)\]/g)) {
    steps.push(match[1] ?? Number(match[2]));
  }
  return steps;
}

export function readPath(value: unknown, steps: readonly (string | number)[]): unknown {
  let current = value;
  for (const step of steps) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string | number, unknown>)[step];
  }
  return current;
}
