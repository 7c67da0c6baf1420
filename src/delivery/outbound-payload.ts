import type { HubEvent } from "../events/hub-event.ts";
import { webhookBody, webhookPayload } from "./delivery-job.ts";
import { compileMask } from "./payload-mask.ts";
import type { Subscription } from "./subscription.ts";

/** What a delivery sends, or why it sends nothing this time. */
export type OutboundBody =
  /** `shaped`: the subscription changed the payload (a transform or a mask), so the attempt log keeps what was sent. */
  | { kind: "body"; body: string; shaped: boolean }
  /** The transform plugin answered null: this event is not for this receiver. */
  | { kind: "skip"; reason: string }
  /** The transform plugin failed: the attempt fails like an error answer (retried, then a dead letter). */
  | { kind: "failed"; error: string; durationMs: number };

/** The port to the plugin host for `transform: {plugin}` (src/app.ts wires it). */
export interface OutboundTransforms {
  /** Runs `outbound(input)` of the named transform plugin in the sandbox, within its limits; null skips. */
  run(plugin: string, input: { subscriptionId: string; event: HubEvent; payload: Record<string, unknown> }): Promise<Record<string, unknown> | null>;
  /** The kind of a plugin the hub knows (null: it never loaded), undefined for a name it does not know. */
  kindOf(plugin: string): string | null | undefined;
}

/** The body a subscription is sent for an event: transformed and masked when it says so. A plain subscription answers at once. */
export type OutboundPayloads = (subscription: Subscription, event: HubEvent) => OutboundBody | Promise<OutboundBody>;

/** Compiles each subscription's mask once (per subscription object, as the cache replaces them on change). */
export function createOutboundPayloads(transforms?: OutboundTransforms): OutboundPayloads {
  const masks = new WeakMap<Subscription, (payload: Record<string, unknown>) => Record<string, unknown>>();
  const masked = (subscription: Subscription, payload: Record<string, unknown>): Record<string, unknown> => {
    if (!subscription.mask || subscription.mask.length === 0) return payload;
    let mask = masks.get(subscription);
    if (!mask) masks.set(subscription, (mask = compileMask(subscription.mask, subscription.maskKey ?? subscription.secret)));
    return mask(payload);
  };

  const transformed = async (subscription: Subscription, plugin: string, event: HubEvent): Promise<OutboundBody> => {
    const started = performance.now();
    try {
      if (!transforms) throw new Error("no plugin host is wired");
      const body = await transforms.run(plugin, { subscriptionId: subscription.id, event, payload: webhookPayload(event) });
      if (body === null) return { kind: "skip", reason: `the transform plugin ${plugin} skipped it (outbound returned null)` };
      return { kind: "body", body: JSON.stringify(masked(subscription, body)), shaped: true };
    } catch (error) {
      return { kind: "failed", error: `transform plugin ${plugin}: ${(error as Error).message}`, durationMs: Math.round(performance.now() - started) };
    }
  };

  return (subscription, event) => {
    if (subscription.transform) return transformed(subscription, subscription.transform.plugin, event);
    if (!subscription.mask || subscription.mask.length === 0) return { kind: "body", body: webhookBody(event), shaped: false };
    return { kind: "body", body: JSON.stringify(masked(subscription, webhookPayload(event))), shaped: true };
  };
}
