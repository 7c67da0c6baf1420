import type { VerifierSettings, VerifierType } from "../inbound-source.ts";
import { alipayRsa2Verifier } from "./alipay-rsa2.ts";
import { hmacVerifier } from "./hmac.ts";
import { noneVerifier } from "./none.ts";
import { standardWebhooksVerifier } from "./standard-webhooks.ts";
import type { InboundRequest, Verified, Verifier } from "./verifier.ts";
import { wechatpayV3Verifier } from "./wechatpay-v3.ts";

export { isVerificationFailure, VerificationFailure, type InboundRequest, type Verified, type VerificationCheck } from "./verifier.ts";

type SettingsOf<T extends VerifierType> = Extract<VerifierSettings, { type: T }>;

/** Every verifier by the `type` a source names. */
const VERIFIERS: { [T in VerifierType]: Verifier<SettingsOf<T>> } = {
  "standard-webhooks": standardWebhooksVerifier,
  hmac: hmacVerifier,
  "wechatpay-v3": wechatpayV3Verifier,
  "alipay-rsa2": alipayRsa2Verifier,
  none: noneVerifier,
};

function verifierOf(settings: VerifierSettings): Verifier<VerifierSettings> {
  return VERIFIERS[settings.type];
}

/** Checks a delivery against the source's verifier; throws a VerificationFailure. */
export function verifyDelivery(settings: VerifierSettings, request: InboundRequest, nowSeconds: number): Verified {
  return verifierOf(settings).verify(request, settings, nowSeconds);
}

/** The body the transform sees (decrypted where the scheme encrypts). */
export function openBody(settings: VerifierSettings, body: unknown): unknown {
  const verifier = verifierOf(settings);
  return verifier.open ? verifier.open(body, settings) : body;
}

/** Why settings that match the schema still cannot work (a key that does not parse), or undefined. */
export function settingsProblem(settings: VerifierSettings): string | undefined {
  try {
    verifierOf(settings).check?.(settings);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
