// Baseline for bench/delivery.ts: the glue an integrator would write instead of kefu-hub — express 5
// → BullMQ add → worker → Standard-Webhooks-signed undici POST. No event store, no dedupe, no
// delivery log, no breaker, no SSRF guard: the floor of what "accept and deliver" costs.
// argv[2]: port. Env: GLUE_RECEIVER_URL, GLUE_SECRET (whsec_…), GLUE_API_KEY, GLUE_PREFIX, REDIS_URL.
import { createHmac, createSecretKey, randomUUID } from "node:crypto";
import { Queue, Worker } from "bullmq";
import express from "express";
import { Redis } from "ioredis";
import { Pool } from "undici";

interface GlueEvent {
  id?: string;
  type: string;
  occurredAt: string;
  priority?: "urgent" | "high" | "normal" | "low";
  data: Record<string, unknown>;
}

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
}
const redisUrl = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379";
const prefix = env("GLUE_PREFIX");
const receiver = new URL(env("GLUE_RECEIVER_URL"));
// A KeyObject, imported once: createHmac with raw bytes re-imports the key on every call.
const key = createSecretKey(Buffer.from(env("GLUE_SECRET").slice("whsec_".length), "base64"));
const expectedAuth = `Bearer ${env("GLUE_API_KEY")}`;
const PRIORITY = { urgent: 1, high: 2, normal: 3, low: 4 } as const;

const queue = new Queue<GlueEvent>("webhooks", { connection: new Redis(redisUrl, { maxRetriesPerRequest: null }), prefix });
const pool = new Pool(receiver.origin, { connections: 64 });

// Same in-flight limit as kefu-hub's default deliveryConcurrency (50).
new Worker<GlueEvent>("webhooks", async (job) => {
  const event = job.data;
  const id = event.id ?? job.id ?? randomUUID();
  const body = JSON.stringify({ type: event.type, timestamp: event.occurredAt, data: event.data });
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64");
  const response = await pool.request({
    path: receiver.pathname,
    method: "POST",
    headers: { "content-type": "application/json", "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": `v1,${signature}` },
    body,
  });
  await response.body.dump();
  if (response.statusCode >= 300) throw new Error(`receiver answered ${response.statusCode}`);
}, { connection: new Redis(redisUrl, { maxRetriesPerRequest: null }), prefix, concurrency: 50 });

const app = express();
app.use(express.json());
app.post("/v1/events", async (req, res) => {
  if (req.get("authorization") !== expectedAuth) return void res.sendStatus(401);
  const event = req.body as GlueEvent;
  const id = event.id ?? randomUUID();
  await queue.add(event.type, { ...event, id }, {
    priority: PRIORITY[event.priority ?? "normal"],
    attempts: 8,
    backoff: { type: "exponential", delay: 5000 },
    removeOnComplete: true,
    removeOnFail: 1000,
  });
  res.status(202).json({ id });
});
app.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => process.send?.("ready"));
