import { randomBytes, randomUUID } from "node:crypto";
import { deleteKeysAt } from "../../test/helpers/delete-keys.ts";
import { createEventPoster, type EventPoster } from "./event-poster.ts";
import { startHubCluster, stopChild } from "./hub-cluster.ts";
import { hubNodeArgs } from "./hub-node-args.ts";
import { forkServer, freePort } from "./processes.ts";
import type { WebhookReceiver } from "./webhook-receiver.ts";

export const CASES = ["glue", "hub", "hub+worker", "hub-ordered", "hub-shaped"] as const;

/**
 * The `hub-shaped` subscription: a filter every bench event passes (so that the same events are
 * delivered) and a mask of five paths, three of them present (issue 14: ≥ 0.9 × without them).
 */
export const SHAPED = {
  filter: { all: [{ fact: "type", operator: "equal", value: "chat.message.created" }, { fact: "data", path: "$.sender.type", operator: "in", value: ["customer", "agent"] }] },
  mask: ["data.text", { path: "data.sender.id", action: "hash" }, { path: "data.messageId", action: "drop" }, "data.customer.phone", "data.attachments.*.url"],
};
export type CaseName = (typeof CASES)[number];

/** A running system under test that accepts events and delivers them to the receiver. */
export interface DeliveryTarget {
  poster: EventPoster;
  /** Processes whose CPU is the tested one. */
  pids: number[];
  /** Stops the processes and deletes their Redis keys; idempotent. */
  close(): Promise<void>;
}

export interface TargetContext {
  redisUrl: string;
  receiver: WebhookReceiver;
  sessions: number;
  connections: number;
}

/** Signatures verified at the start of each case (see WebhookReceiver.verifyNext). */
const VERIFIED = 5;
const API_KEY = "bench-admin-key-000001";

/** Starts a case's processes; a string says why the case is skipped. */
export async function openTarget(name: CaseName, context: TargetContext): Promise<DeliveryTarget | string> {
  return name === "glue" ? openGlue(context) : openHub(context, name === "hub+worker" ? 1 : 0, name === "hub-ordered", name === "hub-shaped");
}

async function openGlue({ redisUrl, receiver, sessions, connections }: TargetContext): Promise<DeliveryTarget> {
  const prefix = `bench-glue-${randomUUID().slice(0, 8)}`;
  const secret = `whsec_${randomBytes(32).toString("base64")}`;
  const port = await freePort();
  const env = { REDIS_URL: redisUrl, GLUE_PREFIX: prefix, GLUE_RECEIVER_URL: receiver.url, GLUE_SECRET: secret, GLUE_API_KEY: API_KEY };
  // The hub's Node.js flags, so that the comparison is about code, not about V8 settings.
  const child = await forkServer(new URL("../servers/glue.ts", import.meta.url), port, { env, execArgv: hubNodeArgs() }).catch(async (error: unknown) => {
    await deleteKeysAt(redisUrl, prefix);
    throw error;
  });
  const killOnExit = (): void => void child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const poster = createEventPoster({ url: `http://127.0.0.1:${port}`, apiKey: API_KEY, tag: randomUUID().slice(0, 8), sessions, connections });
  receiver.verifyNext(secret, VERIFIED);
  let closing: Promise<void> | undefined;
  return {
    poster,
    pids: [child.pid ?? NaN],
    close() {
      closing ??= (async () => {
        await poster.close();
        await stopChild(child);
        process.removeListener("exit", killOnExit);
        await deleteKeysAt(redisUrl, prefix);
      })();
      return closing;
    },
  };
}

async function openHub({ redisUrl, receiver, sessions, connections }: TargetContext, workers: number, ordered: boolean, shaped: boolean): Promise<DeliveryTarget | string> {
  const cluster = await startHubCluster({ redisUrl, apiKeys: `${API_KEY}=admin`, workers });
  const poster = createEventPoster({ url: cluster.url, apiKey: API_KEY, tag: randomUUID().slice(0, 8), sessions, connections });
  const close = async (): Promise<void> => {
    await poster.close();
    await cluster.stop();
  };
  try {
    const subscription = { url: receiver.url, events: ["*"], ...(ordered ? { ordering: "conversation" } : {}), ...(shaped ? SHAPED : {}) };
    const created = await poster.call("POST", "/v1/subscriptions", subscription);
    if (ordered && (created.status === 400 || created.status === 422)) {
      await close();
      const detail = (created.body as { detail?: unknown } | undefined)?.detail;
      return `skipped: the hub refused ordering (${created.status}: ${typeof detail === "string" ? detail : created.text.slice(0, 200)})`;
    }
    const secret = (created.body as { secret?: unknown } | undefined)?.secret;
    if (created.status !== 201 || typeof secret !== "string") throw new Error(`POST /v1/subscriptions answered ${created.status}`);
    receiver.verifyNext(secret, VERIFIED);
  } catch (error) {
    await close();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return { poster, pids: cluster.pids, close: () => (closing ??= close()) };
}
