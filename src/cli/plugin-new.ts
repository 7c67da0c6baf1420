import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { PLUGIN_METHODS, type PluginKind } from "../plugins/plugin-caller.ts";

export interface PluginNewOptions {
  name: string;
  kind: PluginKind;
  /** Folder the plugin folder is created in. */
  dir: string;
  /** The hub's root (for the SDK import path and the kind's example). */
  hubRoot: string;
}

const INPUT_FIELD: Record<Exclude<PluginKind, "transform">, { type: string; field: string; path: (id: string) => string; example: string }> = {
  orders: { type: "GetOrderInput", field: "orderId", path: (id) => `/orders/\${encodeURIComponent(${id})}`, example: "SO-20261130-0001" },
  payments: { type: "GetPaymentsInput", field: "orderId", path: (id) => `/orders/\${encodeURIComponent(${id})}/payments`, example: "SO-20261130-0001" },
  logistics: { type: "TrackInput", field: "orderId", path: (id) => `/orders/\${encodeURIComponent(${id})}/shipments`, example: "SO-20261130-0001" },
  crm: { type: "GetCustomerInput", field: "customerId", path: (id) => `/customers/\${encodeURIComponent(${id})}`, example: "C-0001" },
};
const RESULT_TYPE: Record<PluginKind, string> = { orders: "Order", payments: "OrderPayments", logistics: "OrderShipments", crm: "Customer", transform: "TransformResult" };

/** `kefu-hub plugin new`: a plugin folder with manifest, entry and recorded test cases. Answers the folder. */
export function scaffoldPlugin({ name, kind, dir, hubRoot }: PluginNewOptions): string {
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(name)) throw new Error(`"${name}" is not a valid plugin name: lowercase letters, digits and dashes, starting with a letter`);
  if (!(kind in PLUGIN_METHODS)) throw new Error(`--kind must be one of ${Object.keys(PLUGIN_METHODS).join(", ")}`);
  const folder = resolve(dir, name);
  if (existsSync(folder)) throw new Error(`${folder} already exists`);
  mkdirSync(folder, { recursive: true });
  const sdk = relative(folder, join(hubRoot, "src", "plugins", "sdk", "index.ts")).split(sep).join("/");
  const schema = JSON.parse(readFileSync(join(hubRoot, "schemas", "plugins", `${kind}.schema.json`), "utf8")) as { examples: unknown[] };
  const example = schema.examples[0];
  const baseUrl = "https://api.example.com";
  writeFileSync(join(folder, "plugin.json"), `${JSON.stringify(manifest(name, kind, baseUrl), null, 2)}\n`);
  writeFileSync(join(folder, "index.ts"), kind === "transform" ? transformEntry(sdk) : fetchingEntry(kind, sdk));
  writeFileSync(join(folder, "cases.json"), `${JSON.stringify(cases(kind, baseUrl, example), null, 2)}\n`);
  return folder;
}

function manifest(name: string, kind: PluginKind, baseUrl: string): Record<string, unknown> {
  return {
    name,
    version: "0.1.0",
    kind,
    description: `TODO: what ${name} connects to`,
    entry: "index.ts",
    capabilities: kind === "transform" ? {} : { http: { allow: ["${config.baseUrl}"] }, cache: false, secrets: ["API_TOKEN"] },
    limits: { memoryMb: 32, timeoutMs: 2000 },
    config: {
      type: "object",
      additionalProperties: false,
      properties: kind === "transform" ? {} : { baseUrl: { type: "string", format: "uri", default: baseUrl, description: "Where the business system's API answers." } },
    },
  };
}

function fetchingEntry(kind: Exclude<PluginKind, "transform">, sdk: string): string {
  const { type, field, path } = INPUT_FIELD[kind];
  const method = PLUGIN_METHODS[kind][0];
  return `import type { ${type}, Kefu, ${RESULT_TYPE[kind]} } from "${sdk}";

declare const kefu: Kefu<{ baseUrl: string }>;

/**
 * Called by kefu-hub with { ${field} }. Answer the record in kefu-hub's shape
 * (schemas/plugins/${kind}.schema.json), null when it does not exist, or throw when the
 * business system fails. Run \`npx kefu-hub plugin test <this folder>\` after each change.
 */
export async function ${method}({ ${field} }: ${type}): Promise<${RESULT_TYPE[kind]} | null> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (kefu.secrets["API_TOKEN"]) headers["authorization"] = \`Bearer \${kefu.secrets["API_TOKEN"]}\`;
  const response = await kefu.http.fetch(\`\${kefu.config.baseUrl}${path(field)}\`, { headers });
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(\`upstream answered \${response.status}\`);
  // TODO: map the business system's fields to kefu-hub's here.
  return response.json<${RESULT_TYPE[kind]}>();
}
`;
}

function transformEntry(sdk: string): string {
  return `import type { InboundInput, TransformResult } from "${sdk}";

/** Turns one inbound webhook of a third-party system into kefu-hub events. */
export async function inbound({ source, body }: InboundInput): Promise<TransformResult | null> {
  const payload = body as { id?: string; event?: string; data?: Record<string, unknown> };
  if (!payload.event) return { events: [] };
  // TODO: map the third party's event names to kefu-hub's (ticket.created, chat.message.created, …).
  return { events: [{ type: payload.event, source, data: payload.data ?? {}, ...(payload.id ? { id: payload.id } : {}) }] };
}
`;
}

function cases(kind: PluginKind, baseUrl: string, example: unknown): Record<string, unknown> {
  if (kind === "transform") {
    return {
      config: {},
      cases: [
        { name: "an event becomes a kefu-hub event", method: "inbound", input: { source: "helpdesk", headers: {}, body: { id: "evt-1", event: "ticket.created", data: { ticketId: "T-1" } } }, expect: { events: [{ type: "ticket.created", source: "helpdesk", data: { ticketId: "T-1" }, id: "evt-1" }] } },
        { name: "a body without an event gives none", method: "inbound", input: { source: "helpdesk", headers: {}, body: {} }, expect: { events: [] } },
      ],
    };
  }
  const { field, path, example: id } = INPUT_FIELD[kind];
  const url = baseUrl + path(JSON.stringify(id)).replace(/\$\{encodeURIComponent\("([^"]*)"\)\}/, "$1");
  const method = PLUGIN_METHODS[kind][0];
  return {
    config: { baseUrl },
    secrets: { API_TOKEN: "test-token" },
    cases: [
      { name: "an existing record", method, input: { [field]: id }, upstream: [{ method: "GET", url, status: 200, body: example }], expect: example },
      { name: "a missing record is null", method, input: { [field]: "missing" }, upstream: [{ method: "GET", url: url.replace(id, "missing"), status: 404, body: { error: "not found" } }], expect: null },
      { name: "an upstream failure is a plugin_error", method, input: { [field]: id }, upstream: [{ method: "GET", url, status: 500, body: "oops" }], expectError: { code: "plugin_error", message: "upstream answered 500" } },
    ],
  };
}
