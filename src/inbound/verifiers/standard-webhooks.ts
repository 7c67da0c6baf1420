import { Webhook } from "standardwebhooks";
import type { StandardWebhooksSettings } from "../inbound-source.ts";
import { checkTimestamp, DEFAULT_TOLERANCE_SECONDS, requireHeader, VerificationFailure, type Verifier } from "./verifier.ts";

/**
 * Standard Webhooks (what kefu-hub itself sends): `webhook-signature` holds `v1,<base64>` HMACs of
 * `id.timestamp.body`, verified by the `standardwebhooks` package. The timestamp is checked here
 * first, against the hub's clock and the source's tolerance, so that the failure names its check.
 */
export const standardWebhooksVerifier: Verifier<StandardWebhooksSettings> = {
  verify(request, settings, nowSeconds) {
    const id = requireHeader(request, "webhook-id");
    const timestamp = requireHeader(request, "webhook-timestamp");
    requireHeader(request, "webhook-signature");
    const toleranceSeconds = settings.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
    checkTimestamp(timestamp, nowSeconds, toleranceSeconds, "webhook-timestamp");
    try {
      new Webhook(settings.secret).verify(request.raw, request.headers, { jsonParse: false });
    } catch (error) {
      const message = (error as Error).message;
      if (/timestamp/i.test(message)) throw new VerificationFailure("timestamp", `webhook-timestamp is refused: ${message}`);
      if (/signature found/i.test(message)) throw new VerificationFailure("signature", "no v1 signature in webhook-signature matches the body");
      throw new VerificationFailure("header", `the webhook-* headers are invalid: ${message}`);
    }
    // A provider's retry has the same webhook-id under a new timestamp: not a replay (dedupe on webhook-id catches it).
    return { replayKey: `${id}.${timestamp}`, replayTtlSeconds: 2 * toleranceSeconds };
  },
  check(settings) {
    new Webhook(settings.secret);
  },
};
