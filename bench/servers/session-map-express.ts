// Ceiling for bench/sessions.ts: a bare express 5 app (default settings) serving session contexts
// from a Map, nothing else. Each context is held as its JSON text, as the hub holds prebuilt bytes,
// so that both send the same bytes and only the serving differs.
// argv[2]: port. Env: BENCH_SESSIONS (count), BENCH_SEED_NOW_MS (the seed's clock; same JSON as the hub's).
import express from "express";
import { seededSession, sessionIdOf } from "../lib/session-seed.ts";

const count = Number(process.env["BENCH_SESSIONS"] ?? 100_000);
const nowMs = Number(process.env["BENCH_SEED_NOW_MS"]);
const sessions = new Map<string, string>();
for (let i = 0; i < count; i++) sessions.set(sessionIdOf(i), JSON.stringify(seededSession(i, { nowMs }).context));

const app = express();
app.get("/v1/sessions/:sessionId", (req, res) => {
  const json = sessions.get(req.params.sessionId);
  if (json === undefined) res.status(404).json({ code: "not_found" });
  else res.type("application/json").send(json);
});
app.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => process.send?.("ready"));
