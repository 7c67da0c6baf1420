import assert from "node:assert/strict";
import { test } from "node:test";
import type { ContextRequest, OrderContext } from "../../src/connectors/order-context.ts";
import { buildContext } from "./build-context.ts";
import { seededCaller } from "./in-process-caller.ts";

/** Timing fields differ between two answers by nature; everything else must be identical, key order included. */
function comparable(context: OrderContext): string {
  for (const source of Object.values(context.sources)) {
    source.ageMs = 0;
    source.durationMs = 0;
  }
  return JSON.stringify(context);
}

test("the hot path answers exactly what the full path answers for the same cached parts", async () => {
  const caller = seededCaller();
  delete caller.plugins.logistics; // a cached part whose kind has no plugin now: plugin null
  const { service, close } = buildContext(caller);
  try {
    const requests: ContextRequest[] = [
      { orderId: "SO-1" },
      { orderId: "SO-1", parts: ["order", "customer"] },
      { orderId: "SO-1", parts: ["customer"] },
      { orderId: "SO-2", parts: ["payments"], customerId: "C-3" },
      { orderId: "SO-2", parts: ["customer", "payments"], customerId: "C-3" },
    ];
    assert.equal(service.hotContext(requests[0]!), undefined, "nothing cached yet");
    for (const request of requests) {
      if (!request.parts || request.parts.includes("shipments")) caller.plugins.logistics = "mem-logistics";
      await service.getContext(request);
      delete caller.plugins.logistics;
      const hot = service.hotContext(request);
      assert.ok(hot !== undefined, `hot answer for ${JSON.stringify(request)}`);
      const full = await service.getContext(request);
      assert.ok(Object.values(full.sources).every((s) => s.cache === "hit"));
      assert.equal(comparable(JSON.parse(hot.toString("utf8")) as OrderContext), comparable(full));
    }
  } finally {
    close();
  }
});

test("the hot path steps aside unless every part asked for is fresh", async () => {
  const caller = seededCaller();
  const { service, close } = buildContext(caller, { ttlMs: 60 });
  try {
    await service.getContext({ orderId: "SO-1", parts: ["order", "payments"] });
    assert.ok(service.hotContext({ orderId: "SO-1", parts: ["order", "payments"] }));
    assert.equal(service.hotContext({ orderId: "SO-1" }), undefined, "shipments and customer are not cached");
    assert.equal(service.hotContext({ orderId: "SO-1", parts: ["payments", "customer"], customerId: "C-1" }), undefined, "customer not cached");
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(service.hotContext({ orderId: "SO-1", parts: ["order"] }), undefined, "stale goes the full path, which refreshes it");
    await service.invalidateOrder("SO-1");
    assert.equal(service.hotContext({ orderId: "SO-1", parts: ["order"] }), undefined);
  } finally {
    close();
  }
});
