import type { ValidateFunction } from "ajv";
import { HubError } from "../http/errors.ts";
import { toFieldErrors } from "../schemas/schema-registry.ts";

/** A hub event as the events ingest port takes it: validated like a body of POST /v1/events. */
export interface InboundHubEvent {
  id: string;
  type: string;
  occurredAt: string;
  source: string;
  priority?: "urgent" | "high" | "normal" | "low";
  data: Record<string, unknown>;
}

/** A behaviour event as the sessions intake port takes it. */
export interface InboundBehavior {
  id: string;
  customerId: string;
  type: string;
  occurredAt: string;
  data: Record<string, unknown>;
}

/** What a transform plugin answered, already checked against schemas/plugins/transform.schema.json by the plugin host. */
export interface TransformOutput {
  events: Partial<InboundHubEvent>[];
  behavior?: Partial<InboundBehavior>[];
}

export interface OutputValidators {
  event: ValidateFunction<InboundHubEvent>;
  behavior: ValidateFunction<InboundBehavior>;
}

/**
 * The plugin's answer completed (ids from the delivery's, so that a re-run of the same delivery
 * makes the same events; time of receipt; the source's name) and validated as the event and
 * behaviour APIs validate. One invalid item refuses the whole answer, so that a delivery is never
 * half ingested by a faulty plugin.
 */
export function completeOutput(output: TransformOutput | null, context: { deliveryId: string; source: string; receivedAt: string }, validators: OutputValidators): { events: InboundHubEvent[]; behavior: InboundBehavior[] } {
  const { deliveryId, source, receivedAt } = context;
  const events = (output?.events ?? []).map((event, index) => ({ id: `${deliveryId}.${index}`, occurredAt: receivedAt, source, ...event }));
  const behavior = (output?.behavior ?? []).map((item, index) => ({ id: `${deliveryId}.b${index}`, occurredAt: receivedAt, ...item }));
  events.forEach((event, index) => check(validators.event, event, `/events/${index}`, "events/event.schema.json"));
  behavior.forEach((item, index) => check(validators.behavior, item, `/behavior/${index}`, "sessions/behavior-event.schema.json"));
  return { events: events as InboundHubEvent[], behavior: behavior as InboundBehavior[] };
}

function check(validate: ValidateFunction, value: unknown, at: string, schema: string): void {
  if (validate(value)) return;
  const errors = toFieldErrors(validate.errors).map((error) => ({ ...error, pointer: `${at}${error.pointer}` }));
  const first = errors[0];
  throw new HubError("plugin_output_invalid", `the transform's ${at.slice(1)} violates schemas/${schema}: ${first ? `${first.pointer} ${first.message}` : "invalid"}`, { errors });
}
