import type { Logger } from "pino";
import type { Counter } from "prom-client";
import { noteError, type PluginRecords } from "./plugin-record.ts";
import type { RunnerClientOptions, RunnerSend } from "./runner-client.ts";

export interface RunnerEventsOptions {
  records: PluginRecords;
  logger: Logger;
  /** `kefu_plugin_restarts_total`. */
  restarts: Counter<"plugin" | "reason">;
  /** How long the restarted runner may take to build one isolate. @defaultValue 10000 */
  loadTimeoutMs?: number;
}

/**
 * What the host does when the runner speaks up: plugin log lines go to the hub's log, replaced
 * isolates are counted, and after a runner restart the active version of every plugin is loaded
 * into the new runner before calls resume.
 */
export function runnerEvents({ records, logger, restarts, loadTimeoutMs = 10_000 }: RunnerEventsOptions): Pick<RunnerClientOptions, "onRestart" | "onEvent"> {
  const reloadIntoRunner = async (send: RunnerSend): Promise<void> => {
    await Promise.all(
      records.all().map(async (record) => {
        if (!record.active) return;
        restarts.inc({ plugin: record.name, reason: "runner_crash" });
        record.restarts++;
        try {
          await send({ t: "load", spec: record.active.spec }, loadTimeoutMs);
        } catch (error) {
          // Its calls fail with plugin_unavailable until the next reload or runner restart.
          noteError(record, `reload after a runner restart failed: ${(error as Error).message}`);
          logger.error({ plugin: record.name, err: error }, "could not load a plugin into the restarted runner; its calls fail until it is reloaded");
        }
      }),
    );
  };
  return {
    onRestart: reloadIntoRunner,
    onEvent(message) {
      if (message.t === "log") {
        logger[message.level]({ plugin: message.plugin, ...message.fields }, message.msg);
        return;
      }
      const record = records.get(message.plugin);
      if (record) record.restarts++;
      restarts.inc({ plugin: message.plugin, reason: message.reason });
      logger.warn({ plugin: message.plugin, reason: message.reason }, "plugin isolate replaced");
    },
  };
}
