import { Redis } from "ioredis";
import { fail, pass, warn, type Finding } from "./finding.ts";

export interface RedisCheckOptions {
  url: string;
  /** @defaultValue Date.now */
  now?: () => number;
  /** How long to wait for Redis to answer. @defaultValue 3000 */
  timeoutMs?: number;
}

/** Skew of the hub's clock against Redis TIME past which webhook timestamps and windows go wrong. */
const SKEW_WARN_MS = 1000;
const SKEW_FAIL_MS = 60_000;

/**
 * The Redis the hub would use: reachable, version ≥ 7, AOF on, `noeviction`, one primary (not a
 * Cluster), and a clock that agrees with this machine's.
 */
export async function checkRedis({ url, now = Date.now, timeoutMs = 3000 }: RedisCheckOptions): Promise<Finding[]> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, commandTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  redis.on("error", () => undefined); // reported below as a finding
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    return [fail("redis.connect", `cannot reach Redis at ${redact(url)}: ${(error as Error).message}`, "start Redis or set REDIS_URL to where it runs (redis://[:password@]host:6379)")];
  }
  try {
    const findings: Finding[] = [pass("redis.connect", `Redis answers at ${redact(url)}`)];
    const server = parseInfo(await redis.info("server"));
    findings.push(versionFinding(server["redis_version"] ?? "unknown"));
    findings.push(await configFinding(redis, "appendonly", (value) => value === "yes"
      ? pass("redis.persistence", "AOF is on (appendonly yes)")
      : warn("redis.persistence", `AOF is off (appendonly ${value}): events answered 202 and queued deliveries since the last snapshot are lost if Redis restarts`, "set `appendonly yes` in redis.conf (or CONFIG SET appendonly yes; appendfsync always to lose nothing)")));
    findings.push(await configFinding(redis, "maxmemory-policy", (value) => value === "noeviction"
      ? pass("redis.eviction", "maxmemory-policy is noeviction")
      : fail("redis.eviction", `maxmemory-policy is ${value}: under memory pressure Redis deletes queued deliveries and routing data`, "set `maxmemory-policy noeviction` in redis.conf (or CONFIG SET maxmemory-policy noeviction)")));
    const cluster = parseInfo(await redis.info("cluster"));
    findings.push(cluster["cluster_enabled"] === "1"
      ? fail("redis.cluster", "Redis runs in Cluster mode: the fan-out script writes keys of several hash slots (an event's records, its subscriptions' indexes), so the hub needs one primary", "point REDIS_URL at a standalone primary (with replicas or Sentinel for failover); only BullMQ's keys share a hash tag ({prefix})")
      : pass("redis.cluster", "one Redis primary (not a Cluster)"));
    findings.push(await clockFinding(redis, now));
    return findings;
  } finally {
    redis.disconnect();
  }
}

function versionFinding(version: string): Finding {
  const major = Number(version.split(".")[0]);
  if (major >= 7) return pass("redis.version", `Redis ${version}`);
  return fail("redis.version", `Redis ${version}: kefu-hub supports Redis 7 or later only`, "upgrade Redis to 7.x or later");
}

async function configFinding(redis: Redis, name: string, judge: (value: string) => Finding): Promise<Finding> {
  try {
    const [, value] = (await redis.config("GET", name)) as [string, string | undefined];
    return judge(value ?? "unknown");
  } catch (error) {
    const check = name === "appendonly" ? "redis.persistence" : "redis.eviction";
    return warn(check, `cannot read ${name} (${(error as Error).message}; CONFIG may be renamed or disabled, as on managed Redis)`, `check in your provider's settings that ${name} is ${name === "appendonly" ? "yes" : "noeviction"}`);
  }
}

async function clockFinding(redis: Redis, now: () => number): Promise<Finding> {
  const before = now();
  const [seconds, micros] = await redis.time();
  const after = now();
  // Against the midpoint of the round trip, so that the network's delay is not counted as skew.
  const skewMs = Math.round(Number(seconds) * 1000 + Number(micros) / 1000 - (before + after) / 2);
  const text = `this machine's clock is ${Math.abs(skewMs)} ms ${skewMs > 0 ? "behind" : "ahead of"} Redis TIME`;
  const fix = "run NTP (chrony or systemd-timesyncd) on the hub's and Redis's machines: webhook timestamps, dedupe windows and session windows rely on the clock";
  if (Math.abs(skewMs) >= SKEW_FAIL_MS) return fail("clock", text, fix);
  if (Math.abs(skewMs) >= SKEW_WARN_MS) return warn("clock", text, fix);
  return pass("clock", `${text} (under ${SKEW_WARN_MS} ms)`);
}

function parseInfo(info: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of info.split("\r\n")) {
    const at = line.indexOf(":");
    if (at > 0 && !line.startsWith("#")) fields[line.slice(0, at)] = line.slice(at + 1);
  }
  return fields;
}

/** The URL without its password, for output. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}
