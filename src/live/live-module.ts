import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import { Counter, Gauge, type Registry } from "prom-client";
import type { HubConfig } from "../config/config.ts";
import type { AcceptedEvent } from "../events/hub-event.ts";
import type { Auth } from "../http/auth.ts";
import type { Validation } from "../http/validate.ts";
import type { HubModule } from "../hub-module.ts";
import type { RedisFactory } from "../redis/redis-factory.ts";
import type { SchemaRegistry } from "../schemas/schema-registry.ts";
import type { SessionMirror } from "../sessions/session-mirror.ts";
import { createChannelHistory } from "./channel-history.ts";
import { createLiveFeeds } from "./live-feeds.ts";
import { createLiveGateway } from "./live-gateway.ts";
import { jsonCodec } from "./json-codec.ts";
import { createProtoCodec } from "./proto-codec.ts";
import { CLIENT_FRAME_TYPES, type ClientFrameType } from "./live-connection.ts";
import { createMessagePoster, type IngestEvent } from "./live-messages.ts";
import { createLiveTokens, derivedSecret } from "./live-token.ts";
import { createLocalFanout } from "./local-fanout.ts";
import { liveRoutes } from "./routes.ts";

/** An allowance per live connection besides its send buffer (socket, ws parser and sender, subscriptions). */
const CONNECTION_OVERHEAD_BYTES = 16 * 1024;

export interface LiveModuleOptions {
  config: HubConfig;
  logger: Logger;
  schemas: SchemaRegistry;
  redis: RedisFactory;
  auth: Auth;
  validation: Validation;
  /** The sessions' change feed and open sessions. */
  sessions: SessionMirror;
  /** Ingests a hub event as POST /v1/events does. */
  ingest: IngestEvent;
  registry: Registry;
}

export interface LiveModule extends HubModule {
  /** The HTTP server's `upgrade` handler for `GET /v1/live`. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Part of the events hand-off: assignments to queue and agent channels. */
  onAccepted(events: readonly AcceptedEvent[]): Promise<void>;
  connections(): number;
  /** Closes every live connection with 1012 (on SIGTERM, before the HTTP server waits for its connections). */
  drain(): Promise<void>;
}

/** The live gateway for chat frontends (docs/live.md). */
export async function createLiveModule(options: LiveModuleOptions): Promise<LiveModule> {
  const { config, logger: parent, schemas, redis, auth, validation, sessions, ingest, registry } = options;
  const logger = parent.child({ module: "live" });
  const connection = redis.create("live", { enableAutoPipelining: true, commandTimeout: config.ingestTimeoutMs });
  const history = createChannelHistory({ redis: connection, prefix: config.redisPrefix, size: config.liveHistorySize, seconds: config.liveHistorySeconds });
  const fanout = createLocalFanout({ subscriber: redis.create("live-publications"), announcements: history.announcements, logger });
  await fanout.start();
  const feeds = createLiveFeeds({ history, fanout, logger });
  const stopFeed = sessions.listenAll((session, state) => feeds.onSessionChange(session, state));
  const secrets = config.liveTokenSecrets.length > 0 ? config.liveTokenSecrets : [derivedSecret(config.apiKeys.filter((key) => key.scopes.includes("admin")).map((key) => key.key))];
  const tokens = createLiveTokens(secrets);
  const validators = Object.fromEntries(CLIENT_FRAME_TYPES.map((type) => [type, schemas.validator(`live/client-frame.schema.json#/$defs/${type}`)])) as Record<ClientFrameType, ReturnType<SchemaRegistry["validator"]>>;
  const closedSlow = new Counter({ name: "kefu_live_slow_consumers_total", help: "Live connections closed (4008) because their send buffer stayed full", registers: [registry] });
  const gateway = createLiveGateway({
    tokens,
    // Slots 0 and 1: where each publication keeps its frame in that encoding (publication-frames.ts).
    codecs: [jsonCodec, createProtoCodec(fileURLToPath(new URL("../../schemas/live/live.proto", import.meta.url)), 1)],
    logger,
    pingIntervalMs: config.livePingIntervalMs,
    limits: { maxFrameBytes: config.liveMaxFrameBytes, maxBufferBytes: config.liveMaxBufferBytes, slowCloseMs: config.liveSlowCloseMs, onSlowClose: () => closedSlow.inc() },
    ports: {
      history,
      fanout,
      validators,
      openSession: (sessionId) => sessions.get(sessionId),
      postMessage: createMessagePoster(history, ingest),
    },
  });
  new Gauge({ name: "kefu_live_connections", help: "Open live gateway connections in this process", registers: [registry], collect() { this.set(gateway.connections()); } });
  new Gauge({ name: "kefu_live_channels", help: "Live channels with a subscriber in this process", registers: [registry], collect() { this.set(fanout.stats().channels); } });
  return {
    name: "live",
    router: liveRoutes({ auth, validation, tokens, history, fanout, heartbeatMs: config.sessionsHeartbeatMs }),
    upgrade: (req, socket, head) => gateway.upgrade(req, socket, head),
    onAccepted: (events) => feeds.onAccepted(events),
    connections: () => gateway.connections(),
    memoryReport() {
      const { connections, bufferedBytes } = gateway.buffers();
      return [
        // ws keeps a socket, a parser and a sender per connection, and each subscription a closure: an allowance.
        { store: "live connections", entries: connections, bytes: connections * CONNECTION_OVERHEAD_BYTES, estimated: true },
        { store: "live send buffers", entries: connections, bytes: bufferedBytes, estimated: false },
      ];
    },
    drain: () => gateway.close(),
    async close() {
      stopFeed();
      await gateway.close();
      await fanout.close();
    },
  };
}
