import type { HubConfig } from "../../config/config.ts";
import { listenHost } from "../../config/listen-host.ts";
import { fail, pass, warn, type Finding } from "./finding.ts";

/** Shorter keys than this are guessable enough to warn about (the generated ones have 32 random characters). */
const MIN_KEY_CHARS = 24;

/** API keys, the bind address and the private ranges webhooks may reach. */
export function checkConfig(config: HubConfig): Finding[] {
  return [keysFinding(config), ...shortKeys(config), bindFinding(config), cidrFinding(config)];
}

function keysFinding(config: HubConfig): Finding {
  if (config.apiKeys.length === 0) {
    return warn("keys", "no API keys configured: `kefu-hub start` generates a throwaway admin key and listens on 127.0.0.1 only", "set KEFU_API_KEYS=<key>=admin,<key>=ingest (see docs/configuration.md)");
  }
  const admins = config.apiKeys.filter((key) => key.scopes.includes("admin")).length;
  if (admins === 0) return warn("keys", `${config.apiKeys.length} API key(s), none with the admin scope: nobody can manage subscriptions, plugins or rules`, "add a key with the admin scope to KEFU_API_KEYS");
  return pass("keys", `${config.apiKeys.length} API key(s) configured, ${admins} with the admin scope`);
}

function shortKeys(config: HubConfig): Finding[] {
  const short = config.apiKeys.filter((key) => key.key.length < MIN_KEY_CHARS).length;
  return short === 0 ? [] : [warn("keys.length", `${short} API key(s) shorter than ${MIN_KEY_CHARS} characters`, "use long random keys, e.g. `openssl rand -base64 32`")];
}

function bindFinding(config: HubConfig): Finding {
  const host = listenHost({ configuredHost: config.host, keysConfigured: config.apiKeys.length > 0 });
  const everywhere = host === "0.0.0.0" || host === "::";
  if (everywhere && config.apiKeys.length === 0) {
    return fail("bind", `HOST=${host} without API keys: the generated admin key would guard an API open to the network`, "configure KEFU_API_KEYS, or bind to 127.0.0.1");
  }
  return pass("bind", `listens on ${host}:${config.port}${everywhere ? " (every interface; put TLS in front)" : ""}`);
}

function cidrFinding(config: HubConfig): Finding {
  const cidrs = config.deliveryAllowCidrs;
  if (cidrs.length === 0) return pass("delivery.private-cidrs", "webhooks may not reach private, loopback or metadata addresses");
  const everything = cidrs.filter((cidr) => /^(0\.0\.0\.0\/0|::\/0)$/.test(cidr.trim()));
  if (everything.length > 0) {
    return fail("delivery.private-cidrs", `KEFU_DELIVERY_ALLOW_CIDRS allows ${everything.join(", ")}: any subscriber can make the hub call internal services and cloud metadata (SSRF)`, "list only the private ranges your receivers live in, e.g. 10.20.0.0/16");
  }
  const metadata = cidrs.some((cidr) => cidr.startsWith("169.254.") || cidr.startsWith("fe80:"));
  return warn("delivery.private-cidrs", `webhooks may reach ${cidrs.join(", ")}${metadata ? " (link-local: cloud metadata lives there)" : ""}`, "keep only the ranges your receivers need; anyone with an admin key can point a subscription there");
}
