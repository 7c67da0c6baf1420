import { createHmac } from "node:crypto";
import { writePlugins, type FixtureFile } from "../plugins/fixture-plugins.ts";
import { startTestHub, type TestHub, type TestHubOptions } from "../helpers/test-hub.ts";
import type { HubConfig } from "../../src/config/config.ts";

/** A transform plugin that misbehaves in the way the body's `mode` asks for. */
export const TEST_TRANSFORM: FixtureFile = {
  manifest: { version: "1.0.0", kind: "transform", entry: "index.js", limits: { memoryMb: 16, timeoutMs: 300 } },
  files: {
    "index.js": `
export async function inbound({ source, headers, body }) {
  switch (body.mode) {
    case "throw": throw new Error("the carrier changed its format");
    case "loop": for (;;) {}
    case "junk": return { nonsense: true };
    case "bad-event": return { events: [{ type: "order.updated", data: { status: "shipped" } }] };
    case "nothing": return null;
    case "behavior": return { events: [], behavior: [{ customerId: body.customerId, type: "payment.failed", data: { orderId: body.orderId } }] };
    case "echo": return { events: [{ type: "order.updated", data: { orderId: body.orderId, changes: { headers: Object.keys(headers).sort().join(","), body } } }] };
    default: return { events: [{ type: "order.updated", data: { orderId: body.orderId, status: "shipped" } }] };
  }
}
`,
  },
};

/** The first version throws; tests write {@link FIXED_TRANSFORM} over it and reload. */
export const BROKEN_TRANSFORM: FixtureFile = {
  manifest: { version: "1.0.0", kind: "transform", entry: "index.js", limits: { memoryMb: 16, timeoutMs: 300 } },
  files: { "index.js": `export async function inbound() { throw new TypeError("cannot read the push"); }\n` },
};
export const FIXED_TRANSFORM = `export async function inbound({ body }) { return { events: [{ type: "order.updated", data: { orderId: body.orderId } }] }; }\n`;

export const SECRET = "test-inbound-secret-0001";

export interface InboundHub extends TestHub {
  pluginsDir: string;
  /** POSTs a body to /v1/inbound/{source} signed GitHub-style with {@link SECRET} in x-signature. */
  post(source: string, body: string, init?: { headers?: Record<string, string>; signature?: string }): Promise<Response>;
  /** PUTs a source; asserts 200/201. */
  putSource(name: string, source: Record<string, unknown>): Promise<void>;
}

/** A test hub whose only plugins are the fixtures above (`test-transform`, `fixable`). */
export async function startInboundHub(overrides: Partial<HubConfig> = {}, options: TestHubOptions = {}): Promise<InboundHub> {
  const plugins = writePlugins({ "test-transform": TEST_TRANSFORM, fixable: BROKEN_TRANSFORM });
  const hub = await startTestHub({ pluginsDir: plugins.dir, pluginWatch: false, ...overrides }, {}, options);
  return {
    ...hub,
    pluginsDir: plugins.dir,
    post(source, body, init = {}) {
      const signature = init.signature ?? `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`;
      return fetch(`${hub.url}/v1/inbound/${source}`, { method: "POST", headers: { "content-type": "application/json", "x-signature": signature, ...init.headers }, body });
    },
    async putSource(name, source) {
      const response = await hub.request(`/v1/inbound-sources/${name}`, { method: "PUT", json: source });
      if (response.status !== 200 && response.status !== 201) throw new Error(`PUT source ${name}: ${response.status} ${await response.text()}`);
    },
    async close() {
      await hub.close();
      plugins.remove();
    },
  };
}

/** A GitHub-style HMAC source of the test transform. */
export function hmacSource(extra: Record<string, unknown> = {}, plugin = "test-transform"): Record<string, unknown> {
  return { verifier: { type: "hmac", secret: SECRET, header: "x-signature", prefix: "sha256=" }, transform: { plugin }, ...extra };
}

export interface DeliveryInfo {
  id: string;
  source: string;
  status: "received" | "processed" | "dead";
  attempts: number;
  error?: string;
  events?: string[];
  behaviorEvents?: number;
}

/** Every raw delivery the hub lists (all pages). */
export async function allDeliveries(hub: TestHub, status?: "dead" | "received"): Promise<DeliveryInfo[]> {
  const items: DeliveryInfo[] = [];
  let cursor: string | undefined;
  do {
    const query = new URLSearchParams({ limit: "200", ...(status ? { status } : {}), ...(cursor ? { cursor } : {}) });
    const response = await hub.request(`/v1/inbound-deliveries?${query.toString()}`);
    if (response.status !== 200) throw new Error(`list: ${response.status} ${await response.text()}`);
    const page = (await response.json()) as { items: DeliveryInfo[]; nextCursor?: string };
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

export async function deliveryById(hub: TestHub, id: string): Promise<DeliveryInfo | undefined> {
  return (await allDeliveries(hub)).find((delivery) => delivery.id === id);
}
