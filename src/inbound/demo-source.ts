import type { InboundSourceInput } from "./inbound-source.ts";

/** The demo source's name, its transform plugin (plugins/demo-carrier/) and the `{source}` of its URL. */
export const DEMO_CARRIER = "demo-carrier";

/**
 * A well-known secret, as the demo's API keys are printed: it only exists under `npm start` with
 * the demo business system, so that a new user can sign a push with openssl (docs/inbound-webhooks.md).
 */
export const DEMO_CARRIER_SECRET = "demo-carrier-secret";

/** GitHub-style: `x-carrier-signature: sha256=<hex HMAC of the body>`, deduped on the push id. */
export const DEMO_CARRIER_SOURCE: InboundSourceInput = {
  description: "The demo carrier's tracking pushes (npm start configures it; see docs/inbound-webhooks.md)",
  verifier: { type: "hmac", secret: DEMO_CARRIER_SECRET, header: "x-carrier-signature", algorithm: "sha256", encoding: "hex", prefix: "sha256=" },
  transform: { plugin: DEMO_CARRIER },
  dedupe: { path: "$.pushId" },
};

/** What `npm start` logs once the demo source exists: a push to try, signed in the shell. */
export function demoCarrierHint(baseUrl: string): string {
  const body = String.raw`{\"pushId\":\"P-$(date +%s)\",\"carrier\":\"SF\",\"trackingNo\":\"SF1234567890\",\"orderId\":\"SO-100003\",\"status\":\"out_for_delivery\",\"place\":\"Hangzhou\",\"description\":\"out for delivery\"}`;
  return [
    `demo inbound source ${DEMO_CARRIER}: a carrier's tracking push becomes order.updated for its order; try`,
    `  body="${body}"`,
    `  curl -i ${baseUrl}/v1/inbound/${DEMO_CARRIER} -H 'content-type: application/json' \\`,
    `    -H "x-carrier-signature: sha256=$(printf %s "$body" | openssl dgst -sha256 -hmac ${DEMO_CARRIER_SECRET} | sed 's/^.* //')" -d "$body"`,
    "then GET /v1/orders/SO-100003/context shows its shipments fetched again (docs/inbound-webhooks.md)",
  ].join("\n");
}
