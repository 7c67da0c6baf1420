import type { Condition } from "../routing/ruleset.ts";
import type { MaskEntry } from "./payload-mask.ts";

/** A receiver of webhooks, as stored. */
export interface Subscription {
  id: string;
  url: string;
  /** Type patterns: `*`, `ticket.*`, `chat.message.created`. */
  events: string[];
  description?: string;
  enabled: boolean;
  /** Why it was disabled by the hub, when it was. */
  disabledReason?: "gone" | "failing";
  /** Extra static headers sent with every delivery. */
  headers: Record<string, string>;
  rateLimitPerSecond?: number;
  /**
   * `conversation`: events of one conversation (`data.sessionId`, else `data.ticketId`) reach this
   * subscription in accept order, one in flight per conversation. Absent: no order, all in parallel.
   */
  ordering?: "conversation";
  /** Only events passing this condition (routing rules' format) are delivered; absent: every event of `events`. */
  filter?: Condition;
  /** A transform plugin whose `outbound(input)` answers the body to send (or null to skip), before the mask. */
  transform?: { plugin: string };
  /** Paths of the payload masked before signing (redacted, hashed or dropped). */
  mask?: MaskEntry[];
  /** The HMAC key of `hash` masks: the subscription's own, never shown, so hashes join per subscription only. */
  maskKey?: string;
  secret: string;
  /** Still signed with during the overlap window after a rotation. */
  previousSecret?: string;
  previousSecretExpiresAt?: string;
  createdAt: string;
  updatedAt: string;
}

/** What the API shows: never the secrets (they are answered only on create and rotate). */
export type SubscriptionView = Omit<Subscription, "secret" | "previousSecret" | "maskKey">;

export function toView({ secret: _secret, previousSecret: _previous, maskKey: _maskKey, ...view }: Subscription): SubscriptionView {
  return view;
}

/** Whether a type pattern matches an event type: `*` everything, `a.*` every type under `a.`, else exact. */
export function matchesType(pattern: string, type: string): boolean {
  if (pattern === "*") return true;
  if (pattern.endsWith(".*")) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}

export function subscribesTo(subscription: Subscription, type: string): boolean {
  return subscription.enabled && subscription.events.some((pattern) => matchesType(pattern, type));
}

/** The secrets to sign with now: the current one, plus the previous one while its overlap lasts. */
export function signingSecrets(subscription: Subscription, now = Date.now()): string[] {
  const { secret, previousSecret, previousSecretExpiresAt } = subscription;
  if (previousSecret && previousSecretExpiresAt && Date.parse(previousSecretExpiresAt) > now) return [secret, previousSecret];
  return [secret];
}
