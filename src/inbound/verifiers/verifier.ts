import { timingSafeEqual } from "node:crypto";

/** What a verifier sees of one delivery: the bytes as received, and the body parsed from them. */
export interface InboundRequest {
  /** Lower-cased names. */
  headers: Readonly<Record<string, string>>;
  /** The body exactly as received: what signatures cover. */
  raw: Buffer;
  /** The parsed body: a JSON value, or the fields of a form. */
  body: unknown;
}

/** What a verified delivery carries for the replay guard. */
export interface Verified {
  /**
   * Names this signed message: the same message again is a replay. Absent when the scheme signs
   * nothing (`none`).
   */
  replayKey?: string;
  /** How long the replay key must be remembered; absent: the dedupe window (the scheme has no timestamp). */
  replayTtlSeconds?: number;
}

/** The checks a delivery can fail; answered in the 401's `check`. */
export type VerificationCheck = "header" | "signature" | "timestamp" | "replay" | "decryption";

/**
 * A delivery that does not prove it comes from the provider. Its message says which check failed
 * and never what was expected (no computed signature, no key material).
 */
export class VerificationFailure extends Error {
  override name = "VerificationFailure";
  readonly check: VerificationCheck;
  constructor(check: VerificationCheck, message: string) {
    super(message);
    this.check = check;
  }
}

export function isVerificationFailure(error: unknown): error is VerificationFailure {
  return (error as { name?: unknown } | null)?.name === "VerificationFailure" && typeof (error as { check?: unknown }).check === "string";
}

/** One provider's scheme. `settings` were validated by schemas/inbound-source.schema.json. */
export interface Verifier<Settings> {
  /** Throws a {@link VerificationFailure}; `nowSeconds` is the hub's clock (injected by tests). */
  verify(request: InboundRequest, settings: Settings, nowSeconds: number): Verified;
  /** The body the transform plugin sees, when the scheme encrypts part of it (WeChat Pay). @defaultValue the parsed body */
  open?(body: unknown, settings: Settings): unknown;
  /** Throws with a message for the admin when settings validate but cannot work (a key that does not parse). */
  check?(settings: Settings): void;
}

/** The default clock skew the timestamped schemes accept, either way. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** The header, or a `header` failure naming it. */
export function requireHeader(request: InboundRequest, name: string): string {
  const value = request.headers[name.toLowerCase()];
  if (value === undefined || value === "") throw new VerificationFailure("header", `the ${name.toLowerCase()} header is missing`);
  return value;
}

/** Unix seconds within `toleranceSeconds` of now, or a `timestamp` failure. */
export function checkTimestamp(value: string, nowSeconds: number, toleranceSeconds: number, what: string): number {
  if (!/^\d{1,12}$/.test(value)) throw new VerificationFailure("timestamp", `${what} is not a Unix time in seconds`);
  const timestamp = Number(value);
  const skew = nowSeconds - timestamp;
  if (Math.abs(skew) > toleranceSeconds) {
    const side = skew > 0 ? `${skew} s old` : `${-skew} s in the future`;
    throw new VerificationFailure("timestamp", `${what} is ${side}; at most ${toleranceSeconds} s either way is accepted (is a clock wrong, or is this delivery replayed?)`);
  }
  return timestamp;
}

/** Constant-time comparison of two strings of any length. */
export function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
