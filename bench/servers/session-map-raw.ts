// Ceiling for bench/sessions.ts: node:http serving session contexts from a Map of prebuilt bytes
// (as the hub keeps them), nothing else.
// argv[2]: port. Env: BENCH_SESSIONS (count), BENCH_SEED_NOW_MS (the seed's clock; same JSON as the hub's).
import { createServer } from "node:http";
import { seededSession, sessionIdOf } from "../lib/session-seed.ts";

const count = Number(process.env["BENCH_SESSIONS"] ?? 100_000);
const nowMs = Number(process.env["BENCH_SEED_NOW_MS"]);
const sessions = new Map<string, Buffer>();
for (let i = 0; i < count; i++) sessions.set(sessionIdOf(i), Buffer.from(JSON.stringify(seededSession(i, { nowMs }).context)));
const notFound = Buffer.from(JSON.stringify({ code: "not_found" }));
const path = /^\/v1\/sessions\/([^/?]+)(?:\?|$)/;

const server = createServer((req, res) => {
  const id = path.exec(req.url ?? "")?.[1];
  const body = id === undefined ? undefined : sessions.get(decodeURIComponent(id));
  res.writeHead(body === undefined ? 404 : 200, { "content-type": "application/json; charset=utf-8", "content-length": (body ?? notFound).length });
  res.end(body ?? notFound);
});
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => process.send?.("ready"));
