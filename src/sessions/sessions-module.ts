import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "pino";
import { Counter, Gauge, type Registry } from "prom-client";
import type { HubConfig } from "../config/config.ts";
import type { FaultHook } from "../fault-points.ts";
import type { Auth } from "../http/auth.ts";
import type { Validation } from "../http/validate.ts";
import { degradedState, type HubModule } from "../hub-module.ts";
import type { RedisFactory } from "../redis/redis-factory.ts";
import type { SchemaRegistry } from "../schemas/schema-registry.ts";
import { BEHAVIOR_OUTCOMES, createBehaviorIntake, type BehaviorIntake } from "./behavior-intake.ts";
import type { BehaviorSource } from "./behavior-source.ts";
import { createBehaviorDeadLetters } from "./dead-letters.ts";
import { createFusionService, type FusionService } from "./fusion-service.ts";
import { createFusionStore } from "./fusion-store.ts";
import { startDemoBehavior, type DemoBehaviorOptions } from "./demo-behavior.ts";
import { createSessionLifecycle, type SessionLifecycle } from "./session-lifecycle.ts";
import { sessionKeys } from "./session-keys.ts";
import { startIdlePacking } from "./idle-packing.ts";
import { createSessionMirror, type SessionMirror } from "./session-mirror.ts";
import { createSessionStore } from "./session-store.ts";
import { createSessionSync } from "./session-sync.ts";
import { createSessionUpdater } from "./session-updater.ts";
import { createSessionWriter } from "./session-writer.ts";
import type { BehaviorEvent } from "./session-types.ts";
import { sessionFastRoute, sessionRoutes } from "./routes.ts";
import { createKafkaSource } from "./sources/kafka-source.ts";
import { createNatsSource } from "./sources/nats-source.ts";
import { createRedisStreamSource } from "./sources/redis-stream-source.ts";

export interface SessionsModuleOptions {
  config: HubConfig;
  logger: Logger;
  schemas: SchemaRegistry;
  redis: RedisFactory;
  registry: Registry;
  auth: Auth;
  validation: Validation;
  /** The CRM profile, behind the order context's cache and breaker (src/app.ts wires it). */
  profileOf: (customerId: string) => Promise<Record<string, unknown> | null>;
  /** Sources besides the configured ones (Redis Stream, NATS, Kafka), e.g. a test's. */
  sources?: readonly BehaviorSource[];
  faults?: FaultHook;
}

export interface SessionsModule extends HubModule {
  /** Part of the events hand-off: opens, updates and closes sessions from chat events (session-lifecycle.ts). */
  lifecycle: SessionLifecycle;
  /** The change feed (SSE here; the live gateway next). */
  mirror: SessionMirror;
  intake: BehaviorIntake;
  fusion: FusionService;
  /** An open session's context, parsed (routing's `session*` facts); undefined when not open. */
  contextOf(sessionId: string): Record<string, unknown> | undefined;
  /** `npm start`'s demo: opens demo sessions (through `ingest`) and feeds their behaviour until close. */
  startDemo(ingest: DemoBehaviorOptions["ingest"]): void;
}

/** Live session context: chat events open sessions, behaviour events fold into them (docs/sessions.md). */
export async function createSessionsModule(options: SessionsModuleOptions): Promise<SessionsModule> {
  const { config, logger: parent, schemas, redis, registry, auth, validation, profileOf } = options;
  const logger = parent.child({ module: "sessions" });
  const keys = sessionKeys(config.redisPrefix);
  const connection = redis.create("sessions", { enableAutoPipelining: true, commandTimeout: config.ingestTimeoutMs });
  const store = createSessionStore(connection, keys);
  // Names this instance's change notices, so that it skips its own (session-sync.ts).
  const instanceId = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const write = createSessionWriter(connection, { keys, retainSeconds: config.sessionsRetainSeconds, instanceId });
  const mirror = createSessionMirror();
  const fusionStore = createFusionStore(connection, keys);
  const fusion = createFusionService(fusionStore, logger);
  const updater = createSessionUpdater({ store, write, mirror });
  const deadLetters = createBehaviorDeadLetters(connection, keys.deadLetters, config.behaviorDeadLetterMax);
  const counter = new Counter({ name: "kefu_behavior_events_total", help: "Behaviour events by source and outcome", labelNames: ["source", "outcome"] as const, registers: [registry] });
  for (const outcome of BEHAVIOR_OUTCOMES) counter.inc({ source: "http", outcome }, 0);
  new Gauge({ name: "kefu_sessions_open", help: "Open sessions held in this process", registers: [registry], collect() { this.set(mirror.size()); } });
  const intake = createBehaviorIntake({ mirror, updater, fusion: () => fusion.active(), validate: schemas.validator<BehaviorEvent>("sessions/behavior-event.schema.json"), deadLetters, counter, ...(options.faults ? { faults: options.faults } : {}) });
  const lifecycle = createSessionLifecycle({ updater, mirror, keys, fusion: () => fusion.active(), profileOf, logger });

  const refreshFusion = (): void => void fusion.refresh().catch((error: unknown) => logger.error({ err: error }, "sessions: fusion refresh failed; keeping the active one"));
  const packing = config.sessionsPackIdleSeconds > 0;
  const sync = createSessionSync({ store, mirror, subscriber: redis.create("sessions-changes"), changesChannel: keys.changes, instanceId, loadPacked: packing, also: { [fusionStore.channel]: refreshFusion }, logger });
  await fusion.refresh();
  await sync.start();
  const stopPacking = packing ? startIdlePacking(mirror, config.sessionsPackIdleSeconds) : () => undefined;

  const sources: BehaviorSource[] = [...(options.sources ?? [])];
  if (config.behaviorNatsUrl && config.behaviorNatsSubject) {
    // One stream per hub prefix, so that two hubs (or test runs) on one NATS do not share a stream.
    const stream = `KEFU_BEHAVIOR_${config.redisPrefix.toUpperCase().replace(/[^A-Z0-9_-]/g, "_")}`;
    sources.push(createNatsSource({ url: config.behaviorNatsUrl, subject: config.behaviorNatsSubject, stream, logger }));
  }
  if (config.behaviorKafkaBrokers && config.behaviorKafkaBrokers.length > 0 && config.behaviorKafkaTopic) {
    sources.push(createKafkaSource({ brokers: config.behaviorKafkaBrokers, topic: config.behaviorKafkaTopic, logger }));
  }
  if (config.behaviorRedisStream) {
    sources.unshift(createRedisStreamSource({ redis: redis.create("behavior-stream"), acks: connection, stream: config.behaviorRedisStream, logger, claimIdleMs: config.behaviorClaimIdleMs }));
  }
  for (const source of sources) {
    for (const outcome of BEHAVIOR_OUTCOMES) counter.inc({ source: source.name, outcome }, 0);
    await source.start(intake.sinkFor(source.name));
  }

  let demo: { stop(): void } | undefined;
  return {
    name: "sessions",
    contextOf(sessionId) {
      const session = mirror.get(sessionId);
      return session ? (JSON.parse(session.body.toString()) as Record<string, unknown>) : undefined;
    },
    startDemo(ingest) {
      demo ??= startDemoBehavior({ ingest, intake, mirror, logger });
    },
    router: sessionRoutes({ auth, validation, mirror, store, intake, deadLetters, fusion, heartbeatMs: config.sessionsHeartbeatMs }),
    fastRoutes: [sessionFastRoute({ auth, mirror })],
    lifecycle,
    mirror,
    intake,
    fusion,
    memoryReport: () => mirror.memoryReport(),
    readiness() {
      const down = sources.filter((source) => source.status() !== "ok").map((source) => `${source.name}: ${source.status()}`);
      return down.length === 0 ? "ok" : degradedState(down.join("; "));
    },
    async close() {
      demo?.stop();
      stopPacking();
      await Promise.allSettled(sources.map((source) => source.close()));
      await sync.close();
    },
  };
}
