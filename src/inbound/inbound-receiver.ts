import type { FaultHook } from "../fault-points.ts";
import { HubError } from "../http/errors.ts";
import type { InboundSource } from "./inbound-source.ts";
import { dedupeValue } from "./dedupe-value.ts";
import type { FreshDelivery, RawDeliveryStore } from "./raw-delivery-store.ts";
import { parseBody } from "./request-body.ts";
import { isVerificationFailure, verifyDelivery, type InboundRequest, type VerificationCheck } from "./verifiers/index.ts";

/** One POST /v1/inbound/{source} as the route hands it over. */
export interface ReceivedRequest {
  /** Lower-cased names. */
  headers: Readonly<Record<string, string>>;
  raw: Buffer;
  contentType: string;
}

export interface Receipt {
  id: string;
  duplicate: boolean;
  source: InboundSource;
  /** A newly stored delivery as the transform needs it, so that it is not read back from Redis. */
  fresh?: FreshDelivery;
}

export interface InboundReceiverOptions {
  sourceOf: (name: string) => Promise<InboundSource | undefined>;
  store: RawDeliveryStore;
  /** How long dedupe values (and replay keys of schemes without a timestamp) are remembered. */
  dedupeSeconds: number;
  faults?: FaultHook;
  /** @defaultValue Date.now */
  now?: () => number;
}

/** Headers that are the caller's credentials to something else: never stored, never handed to a plugin. */
const DROPPED_HEADERS = new Set(["authorization", "cookie", "proxy-authorization"]);

export type InboundReceiver = (sourceName: string, request: ReceivedRequest) => Promise<Receipt>;

/**
 * The door of POST /v1/inbound/{source}: parse, verify, then store once (replay and dedupe checked
 * in the same step). Resolves only once the delivery is durable; what is refused is not stored.
 */
export function createInboundReceiver({ sourceOf, store, dedupeSeconds, faults, now = Date.now }: InboundReceiverOptions): InboundReceiver {
  return async (sourceName, { headers, raw, contentType }) => {
    const source = await sourceOf(sourceName);
    if (!source) throw new HubError("not_found", `no inbound source ${sourceName}; an admin creates it with PUT /v1/inbound-sources/${sourceName}`);
    const request: InboundRequest = { headers, raw, body: parseBody(raw, contentType) };
    const receivedAtMs = now();
    let verified;
    try {
      verified = verifyDelivery(source.verifier, request, Math.floor(receivedAtMs / 1000));
    } catch (error) {
      if (isVerificationFailure(error)) throw refused(error.check, error.message);
      throw error;
    }
    await faults?.("inbound.verified");
    const dedupe = dedupeValue(source.dedupe, headers, request.body);
    const kept = withoutCredentials(headers);
    const outcome = await store.store({
      source: source.name,
      contentType,
      headers: kept,
      raw,
      receivedAtMs,
      ...(verified.replayKey !== undefined ? { replay: { key: verified.replayKey, ttlSeconds: verified.replayTtlSeconds ?? dedupeSeconds } } : {}),
      ...(dedupe !== undefined ? { dedupe: { value: dedupe, ttlSeconds: dedupeSeconds } } : {}),
    });
    if (outcome.outcome === "replay") throw refused("replay", "this signed delivery was already accepted; a provider's retry carries a new timestamp or nonce (or the same body: see the source's dedupe rule)");
    if (outcome.outcome === "duplicate") return { id: outcome.id, duplicate: true, source };
    const fresh: FreshDelivery = { id: outcome.id, source: source.name, headers: kept, body: request.body, receivedAt: new Date(receivedAtMs).toISOString() };
    return { id: outcome.id, duplicate: false, source, fresh };
  };
}

function withoutCredentials(headers: Readonly<Record<string, string>>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name in headers) if (!DROPPED_HEADERS.has(name)) kept[name] = headers[name] as string;
  return kept;
}

function refused(check: VerificationCheck, message: string): HubError {
  return new HubError("verification_failed", `the webhook failed its ${check} check: ${message}`, { extensions: { check } });
}
