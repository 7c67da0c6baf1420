import { pino, type Logger } from "pino";
import type { HubConfig } from "../config/config.ts";

export interface LoggerOptions {
  level: HubConfig["logLevel"];
  format: HubConfig["logFormat"];
  /** Whether stdout is a terminal; decides `auto`. */
  isTty: boolean;
}

/** JSON lines for machines; pino-pretty (in a worker thread) when a person watches a terminal. */
export function createLogger({ level, format, isTty }: LoggerOptions): Logger {
  const pretty = format === "pretty" || (format === "auto" && isTty);
  // No `redact`: wildcard redaction costs on every line (bench/http.ts); nothing logs headers or secrets.
  const base = { name: "kefu-hub", level };
  if (pretty) {
    return pino({ ...base, transport: { target: "pino-pretty", options: { translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname,name" } } });
  }
  // Asynchronous writes keep logging off the request's critical path, and lines are written
  // 4 KB at a time (or every 250 ms when fewer come): a write per access-log line was ~5 % of a
  // GET /v1/sessions/{id} (bench/sessions.ts). pino flushes what is left when the process exits;
  // a SIGKILL loses at most the last 250 ms of lines.
  return pino(base, pino.destination({ sync: false, minLength: 4096, periodicFlush: 250 }));
}
