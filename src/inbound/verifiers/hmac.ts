import { createHmac } from "node:crypto";
import type { HmacSettings } from "../inbound-source.ts";
import { checkTimestamp, DEFAULT_TOLERANCE_SECONDS, requireHeader, sameText, VerificationFailure, type Verifier } from "./verifier.ts";

/**
 * A shared-secret HMAC in a header, as GitHub (`x-hub-signature-256: sha256=<hex>`), Shopify
 * (base64) and many Chinese SaaS providers send it: over the raw body, or over
 * `<timestamp>.<body>` with the timestamp in a header of its own.
 */
export const hmacVerifier: Verifier<HmacSettings> = {
  verify(request, settings, nowSeconds) {
    const { secret, header, algorithm = "sha256", encoding = "hex", prefix = "", signed = "body" } = settings;
    const presented = requireHeader(request, header);
    let timestamp: string | undefined;
    let toleranceSeconds: number | undefined;
    if (signed === "timestamp.body") {
      const timestampHeader = settings.timestampHeader ?? "";
      timestamp = requireHeader(request, timestampHeader);
      toleranceSeconds = settings.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
      checkTimestamp(timestamp, nowSeconds, toleranceSeconds, timestampHeader.toLowerCase());
    }
    if (!presented.startsWith(prefix)) throw new VerificationFailure("signature", `${header.toLowerCase()} does not start with ${JSON.stringify(prefix)}`);
    const hmac = createHmac(algorithm, secret);
    if (timestamp !== undefined) hmac.update(`${timestamp}.`);
    const expected = hmac.update(request.raw).digest(encoding);
    const signature = presented.slice(prefix.length).trim();
    // Hex may come in either case; base64 is compared as sent.
    const matches = encoding === "hex" ? sameText(signature.toLowerCase(), expected) : sameText(signature, expected);
    if (!matches) throw new VerificationFailure("signature", `the ${algorithm} HMAC in ${header.toLowerCase()} does not match the body`);
    // Without a timestamp the same body always has the same signature: a resend is a replay.
    return toleranceSeconds === undefined ? { replayKey: signature } : { replayKey: `${timestamp}.${signature}`, replayTtlSeconds: 2 * toleranceSeconds };
  },
  check(settings) {
    if (settings.signed === "timestamp.body" && !settings.timestampHeader) throw new Error("/verifier/timestampHeader is required when signed is timestamp.body");
  },
};
