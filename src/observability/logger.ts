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
  // Asynchronous writes keep logging off the request's critical path; pino flushes on exit.
  return pino(base, pino.destination({ sync: false }));
}
