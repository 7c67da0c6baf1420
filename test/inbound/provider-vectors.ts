import { createCipheriv, createHmac, randomBytes, sign } from "node:crypto";

/** A WeChat Pay v3 notification as the platform sends it: resource sealed with the APIv3 key, signed by the platform key. */
export function wechatpayNotification(platformKey: string, apiV3Key: string, plaintext: unknown, timestamp: number, nonce = randomBytes(16).toString("hex")): { body: string; headers: Record<string, string> } {
  const iv = randomBytes(6).toString("hex");
  const cipher = createCipheriv("aes-256-gcm", Buffer.from(apiV3Key), Buffer.from(iv));
  cipher.setAAD(Buffer.from("transaction"));
  const sealed = Buffer.concat([cipher.update(JSON.stringify(plaintext)), cipher.final(), cipher.getAuthTag()]);
  const body = JSON.stringify({
    id: "EV-2018022511223320873",
    create_time: "2026-12-02T16:00:00+08:00",
    resource_type: "encrypt-resource",
    event_type: "REFUND.SUCCESS",
    summary: "退款成功",
    resource: { original_type: "refund", algorithm: "AEAD_AES_256_GCM", ciphertext: sealed.toString("base64"), associated_data: "transaction", nonce: iv },
  });
  const signature = sign("sha256", Buffer.from(`${timestamp}\n${nonce}\n${body}\n`), platformKey).toString("base64");
  return { body, headers: { "wechatpay-timestamp": String(timestamp), "wechatpay-nonce": nonce, "wechatpay-signature": signature, "wechatpay-serial": "5157F09EFDC096DE15EBE81A47057A7232F1B8E1" } };
}

/** GitHub's `x-hub-signature-256` of a body. */
export function githubSignature(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}
