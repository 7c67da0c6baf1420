/** The verifier settings of schemas/inbound-source.schema.json, one per `type`. */
export interface StandardWebhooksSettings {
  type: "standard-webhooks";
  /** `whsec_<base64>`. */
  secret: string;
  /** @defaultValue 300 */
  toleranceSeconds?: number;
}

export interface HmacSettings {
  type: "hmac";
  secret: string;
  /** The header holding the signature, e.g. `x-hub-signature-256`. */
  header: string;
  /** @defaultValue "sha256" */
  algorithm?: "sha256" | "sha1";
  /** @defaultValue "hex" */
  encoding?: "hex" | "base64";
  /** Text before the signature, e.g. `sha256=`. @defaultValue "" */
  prefix?: string;
  /** @defaultValue "body" */
  signed?: "body" | "timestamp.body";
  /** Unix seconds; needed when `signed` is `timestamp.body`. */
  timestampHeader?: string;
  /** @defaultValue 300 */
  toleranceSeconds?: number;
}

export interface WechatpayV3Settings {
  type: "wechatpay-v3";
  /** The platform certificate or public key, PEM. */
  platformPublicKey: string;
  /** The APIv3 key, 32 characters: AES-256-GCM key of `resource`. */
  apiV3Key: string;
  /** @defaultValue 300 */
  toleranceSeconds?: number;
}

export interface AlipayRsa2Settings {
  type: "alipay-rsa2";
  /** PEM, or bare base64 as the Alipay console shows it. */
  alipayPublicKey: string;
}

export interface NoneSettings {
  type: "none";
  dangerouslyUnverified: true;
}

export type VerifierSettings = StandardWebhooksSettings | HmacSettings | WechatpayV3Settings | AlipayRsa2Settings | NoneSettings;
export type VerifierType = VerifierSettings["type"];

export type DedupeRule = { path: string } | { header: string };

export interface CustomResponse {
  status: number;
  /** A string is sent as text/plain, anything else as JSON; absent: no body. */
  body?: unknown;
  contentType?: string;
}

/** The body of PUT /v1/inbound-sources/{source}. */
export interface InboundSourceInput {
  description?: string;
  verifier: VerifierSettings;
  transform: { plugin: string };
  dedupe?: DedupeRule;
  response?: CustomResponse;
}

/** As stored in Redis. */
export interface InboundSource extends InboundSourceInput {
  name: string;
  /** ISO 8601. */
  createdAt: string;
  updatedAt: string;
}

/** The settings that are never shown: secrets, and keys (GET answers `<field>Set: true`). */
const HIDDEN_FIELDS: Readonly<Record<VerifierType, readonly string[]>> = {
  "standard-webhooks": ["secret"],
  hmac: ["secret"],
  "wechatpay-v3": ["platformPublicKey", "apiV3Key"],
  "alipay-rsa2": ["alipayPublicKey"],
  none: [],
};

/** The source as GET answers it: every secret or key replaced by `<field>Set: true`. */
export function publicView(source: InboundSource): Record<string, unknown> {
  const hidden = new Set(HIDDEN_FIELDS[source.verifier.type]);
  const verifier: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(source.verifier)) {
    if (hidden.has(field)) verifier[`${field}Set`] = typeof value === "string" && value.length > 0;
    else verifier[field] = value;
  }
  return { ...source, verifier };
}
