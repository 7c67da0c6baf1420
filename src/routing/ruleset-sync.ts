import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { CompiledRuleset } from "./compiled-ruleset.ts";
import type { Router } from "./router.ts";
import type { RulesetStore } from "./ruleset-store.ts";

export interface RulesetSyncOptions {
  store: RulesetStore;
  router: Router;
  /** A connection of its own: a subscribed connection can do nothing else. */
  subscriber: Redis;
  compile: (document: unknown) => CompiledRuleset;
  reconcileSeconds: number;
  logger: Logger;
  onSwap?: (version: number) => void;
}

export interface RulesetSync {
  /**
   * Starts reconciling, subscribes to changes and loads the current version. Rejects when Redis
   * cannot be reached; calling it again retries (listeners and timer are set up once).
   */
  start(): Promise<void>;
  /** Brings this instance to Redis's current version (coalesces concurrent calls). */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Keeps this instance's router on Redis's current ruleset: a message on the change channel
 * triggers a refresh at once, and a periodic reconciliation repairs a missed message (e.g. while
 * the subscriber reconnected).
 */
export function createRulesetSync({ store, router, subscriber, compile, reconcileSeconds, logger, onSwap }: RulesetSyncOptions): RulesetSync {
  let running: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let listening = false;

  const load = async (): Promise<void> => {
    const version = await store.currentVersion();
    if (version <= router.active().version) return;
    const stored = await store.get(version);
    if (!stored) throw new Error(`routing ruleset version ${version} is current but missing in Redis`);
    const compiled = compile(stored.ruleset);
    // Versions only grow: a slow load must not replace a newer ruleset swapped in meanwhile.
    if (version > router.active().version) {
      router.swap({ version, compiled });
      onSwap?.(version);
      logger.info({ version, summary: stored.summary }, "routing ruleset activated");
    }
  };

  const refresh = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await load();
        } while (again && !closed);
      } finally {
        running = undefined;
      }
    })();
    return running;
  };

  const refreshLogged = (): void => {
    refresh().catch((error: unknown) => logger.error({ err: error }, "routing ruleset refresh failed; keeping the active one"));
  };

  return {
    async start() {
      if (!listening) {
        listening = true;
        subscriber.on("message", (channel: string) => {
          if (channel === store.channel) refreshLogged();
        });
        // After a reconnect ioredis resubscribes, but messages sent meanwhile are lost: catch up.
        subscriber.on("ready", refreshLogged);
        timer = setInterval(refreshLogged, reconcileSeconds * 1000);
        timer.unref();
      }
      await subscriber.subscribe(store.channel);
      await refresh();
    },
    refresh,
    close() {
      // A refresh in flight is not awaited: with Redis unreachable it would wait for ioredis's
      // retries; it ends when the hub closes its connections.
      closed = true;
      clearInterval(timer);
      return Promise.resolve();
    },
  };
}
