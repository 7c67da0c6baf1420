import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface FixtureFile {
  manifest: Record<string, unknown>;
  files: Record<string, string>;
}

/** Writes plugin folders into a fresh temporary directory; `remove()` deletes it. */
export function writePlugins(plugins: Record<string, FixtureFile | { raw: Record<string, string> }>): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "kefu-plugins-"));
  for (const [name, plugin] of Object.entries(plugins)) writePlugin(dir, name, plugin);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function writePlugin(dir: string, name: string, plugin: FixtureFile | { raw: Record<string, string> }): void {
  mkdirSync(join(dir, name), { recursive: true });
  const files = "raw" in plugin ? plugin.raw : { "plugin.json": JSON.stringify({ name, ...plugin.manifest }, null, 2), ...plugin.files };
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, name, file), text);
}

export const VALID_ORDER = {
  id: "SO-1",
  status: "paid",
  amount: 99.5,
  currency: "CNY",
  items: [{ sku: "TEA", name: "龙井", quantity: 1, unitPrice: 99.5 }],
  customerId: "C-1",
  createdAt: "2026-11-30T08:00:00Z",
  updatedAt: "2026-11-30T08:00:00Z",
};

/** An orders plugin that misbehaves in the way its `orderId` asks for. */
export const HOSTILE: FixtureFile = {
  manifest: {
    version: "1.0.0",
    kind: "orders",
    entry: "index.js",
    capabilities: { http: { allow: ["${config.baseUrl}"] } },
    limits: { memoryMb: 16, timeoutMs: 400 },
    config: { type: "object", required: ["baseUrl"], properties: { baseUrl: { type: "string" } } },
  },
  files: {
    "index.js": `
const ORDER = ${JSON.stringify(VALID_ORDER)};
export async function getOrder({ orderId }) {
  switch (orderId) {
    case "throw": throw new TypeError("card declined");
    case "loop": for (;;) {}
    case "loop-after-await": await kefu.http.fetch(kefu.config.baseUrl + "/ok"); for (;;) {}
    case "hang": await new Promise(() => {}); return null;
    case "oom": { const hoard = []; for (;;) hoard.push(new Array(100000).fill(hoard.length)); }
    case "invalid": return { id: 1, status: "lost" };
    case "undefined": return undefined;
    case "undeclared": return (await kefu.http.fetch("http://127.0.0.1:9/steal")).json();
    case "redirect": { const r = await kefu.http.fetch(kefu.config.baseUrl + "/redirect"); return { ...ORDER, id: r.status + " " + r.redirectedTo }; }
    case "big": await kefu.http.fetch(kefu.config.baseUrl + "/big"); return ORDER;
    case "slow": { const r = await kefu.http.fetch(kefu.config.baseUrl + "/slow"); return { ...ORDER, id: "v1-" + (await r.text()) }; }
    case "missing": return null;
    default: return { ...ORDER, id: orderId };
  }
}
`,
  },
};

/** A crm plugin that reports what it can reach from inside the sandbox. */
export const PROBE: FixtureFile = {
  manifest: { version: "1.0.0", kind: "crm", entry: "index.js", capabilities: { secrets: ["API_TOKEN", "UNSET_ONE"] } },
  files: {
    "index.js": `
const attempt = (label, fn) => { try { const v = fn(); return label + ":" + (v === undefined ? "undefined" : typeof v); } catch (e) { return label + ":threw " + e.name; } };
export async function getCustomer({ customerId }) {
  const tags = [
    attempt("constructor-escape", () => this?.constructor?.constructor("return process")()),
    attempt("function-escape", () => attempt.constructor("return process")()),
    attempt("global-constructor-escape", () => globalThis.constructor.constructor("return process")()),
    attempt("object-constructor-escape", () => ({}).constructor.constructor("return this.process")()),
    attempt("require", () => (0, eval)("require")),
    attempt("globalThis.process", () => globalThis.process),
    attempt("setTimeout", () => setTimeout),
    attempt("ivm", () => globalThis._ivm ?? globalThis.ivm ?? globalThis.__kefuHost),
    "secrets:" + Object.keys(kefu.secrets).sort().join("+"),
    "token:" + (kefu.secrets.API_TOKEN ?? "none"),
    "globals:" + Object.getOwnPropertyNames(globalThis).filter((n) => /process|require|ivm|host/i.test(n)).join("+"),
  ];
  return { id: customerId, name: "Probe", tier: "regular", riskLevel: "low", tags, contacts: [] };
}
`,
  },
};
