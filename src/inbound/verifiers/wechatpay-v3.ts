import { createDecipheriv, createPublicKey, verify as verifySignature } from "node:crypto";
import type { WechatpayV3Settings } from "../inbound-source.ts";
import { checkTimestamp, DEFAULT_TOLERANCE_SECONDS, requireHeader, VerificationFailure, type Verifier } from "./verifier.ts";

interface EncryptedResource {
  algorithm?: unknown;
  ciphertext?: unknown;
  nonce?: unknown;
  associated_data?: unknown;
}

/**
 * WeChat Pay API v3 notifications (微信支付回调): `Wechatpay-Signature` is an RSA-SHA256 signature,
 * by the platform key, of `timestamp\nnonce\nbody\n`; `resource` is AES-256-GCM encrypted with the
 * merchant's APIv3 key (the tag is the ciphertext's last 16 bytes). A body whose `resource` does not
 * decrypt is refused like a bad signature: GCM's tag is an integrity check too.
 */
export const wechatpayV3Verifier: Verifier<WechatpayV3Settings> = {
  verify(request, settings, nowSeconds) {
    const timestamp = requireHeader(request, "wechatpay-timestamp");
    const nonce = requireHeader(request, "wechatpay-nonce");
    const signature = requireHeader(request, "wechatpay-signature");
    const toleranceSeconds = settings.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
    checkTimestamp(timestamp, nowSeconds, toleranceSeconds, "wechatpay-timestamp");
    const message = Buffer.concat([Buffer.from(`${timestamp}\n${nonce}\n`), request.raw, Buffer.from("\n")]);
    if (!verifySignature("sha256", message, createPublicKey(settings.platformPublicKey), Buffer.from(signature, "base64"))) {
      throw new VerificationFailure("signature", "wechatpay-signature does not match timestamp, nonce and body under the platform key");
    }
    decryptResource(request.body, settings.apiV3Key);
    // WeChat Pay retries with a new nonce: the nonce names one signed message.
    return { replayKey: `${timestamp}.${nonce}`, replayTtlSeconds: 2 * toleranceSeconds };
  },
  /** The notification with `resource.plaintext` (parsed JSON when it is JSON) in place of its ciphertext. */
  open(body, settings) {
    const { ciphertext: _ciphertext, ...resource } = (body as { resource: EncryptedResource }).resource;
    const text = decryptResource(body, settings.apiV3Key);
    return { ...(body as Record<string, unknown>), resource: { ...resource, plaintext: parseIfJson(text) } };
  },
  check(settings) {
    createPublicKey(settings.platformPublicKey);
  },
};

function decryptResource(body: unknown, apiV3Key: string): string {
  const resource = (body as { resource?: EncryptedResource } | null)?.resource;
  const { ciphertext, nonce, associated_data: aad = "" } = resource ?? {};
  if (typeof ciphertext !== "string" || typeof nonce !== "string" || typeof aad !== "string") {
    throw new VerificationFailure("decryption", "the body has no resource with ciphertext and nonce");
  }
  const sealed = Buffer.from(ciphertext, "base64");
  if (sealed.length < 17) throw new VerificationFailure("decryption", "resource.ciphertext is too short to hold a GCM tag");
  try {
    const decipher = createDecipheriv("aes-256-gcm", Buffer.from(apiV3Key), Buffer.from(nonce));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]).toString("utf8");
  } catch {
    throw new VerificationFailure("decryption", "resource does not decrypt with the APIv3 key (wrong key, or the ciphertext was changed)");
  }
}

function parseIfJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
