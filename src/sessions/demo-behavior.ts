import type { Logger } from "pino";
import type { BehaviorIntake } from "./behavior-intake.ts";
import type { SessionMirror } from "./session-mirror.ts";

export interface DemoBehaviorOptions {
  /** Posts a hub event (chat.session.opened) as POST /v1/events would. */
  ingest: (event: { id: string; type: string; occurredAt: string; source: string; data: Record<string, unknown> }) => Promise<unknown>;
  intake: BehaviorIntake;
  mirror: SessionMirror;
  logger: Logger;
  /** @defaultValue 1500 */
  intervalMs?: number;
  random?: () => number;
}

/** The demo customers' sessions: the second one's payments keep failing, so its risk turns high. */
const DEMO_SESSIONS = [
  { sessionId: "S-demo-1", customerId: "C-0001", orderId: "SO-100003" },
  { sessionId: "S-demo-2", customerId: "C-0002", orderId: "SO-100004" },
  { sessionId: "S-demo-3", customerId: "C-0003", orderId: "SO-100005" },
] as const;
const PAGES = ["/", "/orders", "/orders/SO-100003", "/cart", "/checkout", "/help/refunds", "/products/TEA-LJ-250"];

/**
 * `npm start`'s behaviour generator (KEFU_DEMO_BEHAVIOR=false turns it off): opens three demo
 * sessions and feeds them page views, cart updates and failed payments, so that a new user who
 * opens `GET /v1/sessions/S-demo-2` in Swagger UI watches its context and risk change.
 */
export function startDemoBehavior({ ingest, intake, mirror, logger, intervalMs = 1500, random = Math.random }: DemoBehaviorOptions): { stop(): void } {
  let tick = 0;
  const open = async (): Promise<void> => {
    for (const { sessionId, customerId, orderId } of DEMO_SESSIONS) {
      if (mirror.has(sessionId)) continue;
      await ingest({ id: `evt_demo-open-${sessionId}-${Date.now()}`, type: "chat.session.opened", occurredAt: new Date().toISOString(), source: "demo", data: { sessionId, channel: "web", customer: { id: customerId }, orderId } });
    }
  };
  const feed = async (): Promise<void> => {
    tick++;
    const now = new Date().toISOString();
    const events = DEMO_SESSIONS.map(({ customerId }, index) => {
      const id = `demo-${customerId}-${Date.now()}-${tick}`;
      if (index === 1 && tick % 4 === 0) return { id, customerId, type: "payment.failed", occurredAt: now, data: { orderId: "SO-100004", reason: "card_declined" } };
      if (random() < 0.3) return { id, customerId, type: "cart.updated", occurredAt: now, data: { value: Math.round(random() * 200000) / 100 } };
      return { id, customerId, type: "page.viewed", occurredAt: now, data: { url: PAGES[Math.floor(random() * PAGES.length)] } };
    });
    await intake.submit("demo", events);
  };
  const timer = setInterval(() => {
    open()
      .then(feed)
      .catch((error: unknown) => logger.warn({ err: error }, "demo behaviour generator: a round failed"));
  }, intervalMs);
  timer.unref();
  logger.info("demo behaviour: sessions S-demo-1 … S-demo-3 get page views, cart updates and (S-demo-2) failed payments; try GET /v1/sessions/S-demo-2 (KEFU_DEMO_BEHAVIOR=false turns it off)");
  return { stop: () => clearInterval(timer) };
}
