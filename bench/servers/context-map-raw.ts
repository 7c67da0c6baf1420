// Ceiling for bench/context.ts: node:http serving order contexts from a Map, nothing else.
// argv: <port> <file of {orderId: context} JSON>
import { readFileSync } from "node:fs";
import { createServer } from "node:http";

const contexts = new Map<string, unknown>(Object.entries(JSON.parse(readFileSync(process.argv[3] ?? "", "utf8")) as Record<string, unknown>));
const path = /^\/v1\/orders\/([^/?]+)\/context(?:\?|$)/;
const server = createServer((req, res) => {
  const id = path.exec(req.url ?? "")?.[1];
  const context = id === undefined ? undefined : contexts.get(decodeURIComponent(id));
  // Stringified per request, as the hub and express do, so that the baseline does the same work.
  const body = JSON.stringify(context ?? { code: "not_found" });
  res.writeHead(context === undefined ? 404 : 200, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body) });
  res.end(body);
});
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => process.send?.("ready"));
