import type { Auth } from "../http/auth.ts";
import type { Validation } from "../http/validate.ts";
import type { HubModule } from "../hub-module.ts";
import { eventKeys } from "../events/event-keys.ts";
import { eventRoutes } from "../events/routes.ts";
import { cursorOf, deliveryRoutes } from "./routes.ts";
import { createWebhooks, type Webhooks, type WebhooksOptions } from "./webhooks.ts";

export interface WebhookModules {
  webhooks: Webhooks;
  /** `events` (ingestion API) and `delivery` (subscriptions, deliveries; owns the workers). */
  modules: HubModule[];
}

/** Events and delivery as hub modules; the workers start here unless `deliveryWorkers` is false. */
export async function createWebhookModules(options: WebhooksOptions & { auth: Auth; validation: Validation }): Promise<WebhookModules> {
  const { auth, validation, config } = options;
  const webhooks = createWebhooks(options);
  await webhooks.start();
  const keys = eventKeys(config.redisPrefix);
  const events: HubModule = {
    name: "events",
    router: eventRoutes({
      auth,
      validation,
      ingest: webhooks.ingest,
      deliveriesOf: (eventId, limit, cursor) => webhooks.deliveries.pageOf(keys.eventDeliveries(eventId), limit, cursorOf(cursor)),
    }),
  };
  const delivery: HubModule = {
    name: "delivery",
    router: deliveryRoutes({ auth, validation, subscriptions: webhooks.subscriptions, deliveries: webhooks.deliveries }),
    close: () => webhooks.close(),
  };
  return { webhooks, modules: [events, delivery] };
}
