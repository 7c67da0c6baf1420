import { createPublicKey, verify as verifySignature, type KeyObject } from "node:crypto";
import type { AlipayRsa2Settings } from "../inbound-source.ts";
import { VerificationFailure, type Verifier } from "./verifier.ts";

/**
 * Alipay asynchronous notifications (支付宝异步通知), form-encoded: `sign` is an RSA-SHA256 (RSA2)
 * signature of the other parameters, except `sign` and `sign_type` and empty ones, sorted by name
 * and joined as `k=v&k=v` with their decoded values. Alipay's notifications carry no timestamp
 * to check against the clock; `sign` names the message for the replay guard.
 */
export const alipayRsa2Verifier: Verifier<AlipayRsa2Settings> = {
  verify(request, settings) {
    const params = request.body;
    if (typeof params !== "object" || params === null || Array.isArray(params)) throw new VerificationFailure("header", "the body is not form parameters");
    const fields = params as Record<string, unknown>;
    const sign = fields["sign"];
    if (typeof sign !== "string" || sign === "") throw new VerificationFailure("header", "the sign parameter is missing");
    if (fields["sign_type"] !== undefined && fields["sign_type"] !== "RSA2") throw new VerificationFailure("signature", "sign_type must be RSA2");
    if (!verifySignature("sha256", Buffer.from(signedContent(fields)), alipayKey(settings.alipayPublicKey), Buffer.from(sign, "base64"))) {
      throw new VerificationFailure("signature", "sign does not match the sorted parameters under the Alipay public key");
    }
    return { replayKey: sign };
  },
  check(settings) {
    alipayKey(settings.alipayPublicKey);
  },
};

/** What Alipay signs: every parameter but sign, sign_type and empty ones, sorted, `k=v` joined by `&`. */
export function signedContent(fields: Readonly<Record<string, unknown>>): string {
  return Object.keys(fields)
    .filter((key) => key !== "sign" && key !== "sign_type" && typeof fields[key] === "string" && fields[key] !== "")
    .sort()
    .map((key) => `${key}=${String(fields[key])}`)
    .join("&");
}

/** The Alipay console shows the key as bare base64 (SPKI DER); PEM is accepted as well. */
function alipayKey(text: string): KeyObject {
  const pem = text.includes("-----BEGIN") ? text : `-----BEGIN PUBLIC KEY-----\n${text.replace(/\s+/g, "").replace(/(.{64})/g, "$1\n")}\n-----END PUBLIC KEY-----\n`;
  return createPublicKey(pem);
}
