import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { generateDemoData } from "./data.ts";

export type DemoApi = "orders" | "payments" | "logistics" | "crm";
const APIS: readonly DemoApi[] = ["orders", "payments", "logistics", "crm"];

export interface DemoKnobs {
  /** Added before every answer of this api. @defaultValue 0 */
  latencyMs?: number;
  /** Share of answers that are 503, 0..1. @defaultValue 0 */
  errorRate?: number;
}

export interface DemoBusinessSystemOptions {
  /** 0 picks a free port. @defaultValue 0 */
  port?: number;
  /** @defaultValue "127.0.0.1" */
  host?: string;
  /** @defaultValue 42 */
  seed?: number;
  /** At least 300. @defaultValue 300 */
  orders?: number;
}

export interface DemoBusinessSystem {
  /** `http://127.0.0.1:<port>` */
  url: string;
  orderIds(): string[];
  customerIds(): string[];
  setKnobs(api: DemoApi, knobs: DemoKnobs): void;
  /** Requests answered (or failed by a knob) per api since start or the last reset. */
  counts(): Record<DemoApi, number>;
  resetCounts(): void;
  close(): Promise<void>;
}

/**
 * A small shop back office that the demo plugins talk to over HTTP: orders, payments, shipments
 * and customers, seeded deterministically, with latency and error-rate knobs per api.
 */
export async function startDemoBusinessSystem(options: DemoBusinessSystemOptions = {}): Promise<DemoBusinessSystem> {
  const data = generateDemoData(options.seed ?? 42, Math.max(300, options.orders ?? 300));
  const knobs = new Map<DemoApi, Required<DemoKnobs>>(APIS.map((api) => [api, { latencyMs: 0, errorRate: 0 }]));
  const counts = new Map<DemoApi, number>(APIS.map((api) => [api, 0]));
  const setKnobs = (api: DemoApi, next: DemoKnobs): void => {
    const current = knobs.get(api) ?? { latencyMs: 0, errorRate: 0 };
    knobs.set(api, {
      latencyMs: Math.max(0, next.latencyMs ?? current.latencyMs),
      errorRate: Math.min(1, Math.max(0, next.errorRate ?? current.errorRate)),
    });
  };

  const routes: { pattern: RegExp; api: DemoApi; find: (id: string) => unknown }[] = [
    { pattern: /^\/orders\/([^/]+)$/, api: "orders", find: (id) => data.orders.get(id) },
    { pattern: /^\/orders\/([^/]+)\/payments$/, api: "payments", find: (id) => data.payments.get(id) },
    { pattern: /^\/orders\/([^/]+)\/shipments$/, api: "logistics", find: (id) => data.shipments.get(id) },
    { pattern: /^\/customers\/([^/]+)$/, api: "crm", find: (id) => data.customers.get(id) },
  ];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? "/", "http://demo").pathname;
    if (req.method === "GET" && path === "/_stats") return send(res, 200, Object.fromEntries(counts));
    const knob = /^\/_knobs\/(orders|payments|logistics|crm)$/.exec(path);
    if (req.method === "PUT" && knob) {
      const body = JSON.parse((await readBody(req)) || "{}") as DemoKnobs;
      setKnobs(knob[1] as DemoApi, body);
      return send(res, 200, knobs.get(knob[1] as DemoApi));
    }
    for (const route of routes) {
      const match = route.pattern.exec(path);
      if (!match || req.method !== "GET") continue;
      counts.set(route.api, (counts.get(route.api) ?? 0) + 1);
      const { latencyMs, errorRate } = knobs.get(route.api) ?? { latencyMs: 0, errorRate: 0 };
      if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
      if (errorRate > 0 && Math.random() < errorRate) return send(res, 503, { error: "service_unavailable", message: `${route.api} is failing (demo knob)` });
      const found = route.find(decodeURIComponent(match[1] ?? ""));
      return found ? send(res, 200, found) : send(res, 404, { error: "not_found", message: `no such ${route.api === "crm" ? "customer" : "order"}` });
    }
    send(res, 404, { error: "no_route", message: `${req.method} ${path}` });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 500, { error: "internal", message: String(error) }));
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve));
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${address.port}`,
    orderIds: () => [...data.orders.keys()],
    customerIds: () => [...data.customers.keys()],
    setKnobs,
    counts: () => Object.fromEntries(APIS.map((api) => [api, counts.get(api) ?? 0])) as Record<DemoApi, number>,
    resetCounts: () => APIS.forEach((api) => counts.set(api, 0)),
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    req.setEncoding("utf8").on("data", (chunk: string) => (text += chunk)).on("end", () => resolve(text)).on("error", reject);
  });
}
