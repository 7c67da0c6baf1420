import assert from "node:assert/strict";
import { test } from "node:test";
import pino from "pino";
import { Registry } from "prom-client";
import { loadConfig } from "../../src/config/load-config.ts";
import { createAuth } from "../../src/http/auth.ts";
import { hubPaths } from "../../src/paths.ts";
import { createRedisFactory } from "../../src/redis/redis-factory.ts";
import { createRoutingModule } from "../../src/routing/routing-module.ts";
import { createSchemaRegistry } from "../../src/schemas/schema-registry.ts";
import { ticket } from "./helpers.ts";

test("without Redis, routing starts within its wait, says why it is not ready, routes degraded and closes at once", async () => {
  const schemas = createSchemaRegistry(hubPaths().schemas);
  const unreachable = "redis://127.0.0.1:1";
  const config = loadConfig({ env: {}, schemas, overrides: { redisUrl: unreachable } });
  const logger = pino({ level: "silent" });
  const redis = createRedisFactory(unreachable, logger);
  const started = performance.now();
  const routing = await createRoutingModule({ config, logger, redis, schemas, registry: new Registry(), auth: createAuth([]) });
  try {
    assert.ok(performance.now() - started < 5000);
    assert.equal(await routing.module.readiness?.(), "the routing ruleset is not loaded from Redis yet");
    const routed = await routing.enricher(ticket({ subject: "hello" }));
    assert.equal(routed.routing?.degraded, true);
    assert.equal(routed.routing?.rulesetVersion, 0);
  } finally {
    const closing = performance.now();
    await routing.module.close?.();
    await redis.closeAll();
    assert.ok(performance.now() - closing < 1000, "nothing queued behind the dead connection");
  }
});
