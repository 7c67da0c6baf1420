import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

export interface SignatureCheck {
  ok: number;
  failed: number;
  firstError?: string;
}

/** A webhook receiver on 127.0.0.1 answering 204 at once, noting when each `webhook-id` arrived. */
export interface WebhookReceiver {
  url: string;
  /** Receipt time (`performance.now()`, body fully read) by `webhook-id`. */
  arrivals: Map<string, number>;
  /** Arrival rank (0, 1, 2, …) by `webhook-id`, for order checks. */
  ranks: Map<string, number>;
  /** Resolves once every id has arrived; rejects after `timeoutMs`, saying how many are missing. */
  waitForAll(ids: readonly string[], timeoutMs: number, what: string): Promise<void>;
  /** Verifies the next `count` deliveries against `secret` (Standard Webhooks), into {@link checks}. */
  verifyNext(secret: string, count: number): void;
  checks: SignatureCheck;
  /** Forgets every arrival (between cases, so that memory and lookups stay small). */
  reset(): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const arrivals = new Map<string, number>();
  const ranks = new Map<string, number>();
  let waiting: { pending: Set<string>; resolve: () => void } | undefined;
  let verifier: Webhook | undefined;
  let toVerify = 0;
  let checks: SignatureCheck = { ok: 0, failed: 0 };

  const arrived = (id: string): void => {
    arrivals.set(id, performance.now());
    ranks.set(id, ranks.size);
    if (waiting?.pending.delete(id) && waiting.pending.size === 0) waiting.resolve();
  };
  const check = (req: IncomingMessage, body: string, webhook: Webhook): void => {
    try {
      webhook.verify(body, req.headers as Record<string, string>);
      checks.ok++;
    } catch (error) {
      checks.failed++;
      checks.firstError ??= (error as Error).message;
    }
  };

  const server = createServer((req, res) => {
    const id = String(req.headers["webhook-id"]);
    // Only a few deliveries per case are verified: verifying all would add the same cost to every
    // case and blur the CPU figures of the bench process.
    const webhook = toVerify > 0 ? verifier : undefined;
    if (webhook) toVerify--;
    const chunks: Buffer[] = [];
    if (webhook) req.on("data", (chunk: Buffer) => chunks.push(chunk));
    else req.resume();
    req.on("end", () => {
      arrived(id);
      if (webhook) check(req, Buffer.concat(chunks).toString("utf8"), webhook);
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    arrivals,
    ranks,
    get checks() {
      return checks;
    },
    verifyNext(secret, count) {
      verifier = new Webhook(secret);
      toVerify = count;
      checks = { ok: 0, failed: 0 };
    },
    waitForAll(ids, timeoutMs, what) {
      const pending = new Set(ids.filter((id) => !arrivals.has(id)));
      if (pending.size === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting = undefined;
          reject(new Error(`${what}: ${pending.size} of ${ids.length} deliveries missing after ${timeoutMs} ms`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          waiting = undefined;
          resolve();
        };
        waiting = { pending, resolve: done };
      });
    },
    reset() {
      arrivals.clear();
      ranks.clear();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
