import type { Redis } from "ioredis";
import { EMPTY_RULESET, type RulesetDocument } from "./ruleset.ts";

export interface VersionMeta {
  version: number;
  /** ISO 8601. */
  createdAt: string;
  /** Key fingerprint of the admin, or `file:<path>` when seeded, or `built-in`. */
  createdBy: string;
  summary: string;
  /** The version that was current when this one was activated (0: none). */
  basedOn: number;
}

export interface StoredVersion extends VersionMeta {
  ruleset: RulesetDocument;
}

export type ActivateResult = { ok: true; version: number } | { ok: false; current: number };

export interface ActivateRequest {
  ruleset: RulesetDocument;
  /** The version the caller based its change on, or `*` for "whatever is current". */
  expected: number | "*";
  createdBy: string;
  summary: string;
}

/** Version 0: the built-in ruleset in force before anyone stored one. Never written to Redis. */
export const BUILT_IN_VERSION: StoredVersion = {
  version: 0,
  createdAt: new Date(0).toISOString(),
  createdBy: "built-in",
  summary: "built-in default: every event takes the default route",
  basedOn: 0,
  ruleset: EMPTY_RULESET,
};

// Compare-and-set of the current version, the new version's record, its history line and the
// change notice, in one step: two admins saving at once cannot both win.
const ACTIVATE = `
local current = redis.call('GET', KEYS[1]) or '0'
if ARGV[1] ~= '*' and ARGV[1] ~= current then return {0, tonumber(current)} end
local v = redis.call('INCR', KEYS[2])
local meta = cjson.encode({version = v, createdAt = ARGV[4], createdBy = ARGV[5], summary = ARGV[6], basedOn = tonumber(current)})
redis.call('HSET', ARGV[2] .. v, 'ruleset', ARGV[3], 'meta', meta)
redis.call('RPUSH', KEYS[3], meta)
redis.call('SET', KEYS[1], v)
redis.call('PUBLISH', ARGV[7], v)
return {1, v}
`;

export interface RulesetStore {
  /** Pub/sub channel that carries the number of each newly activated version. */
  readonly channel: string;
  currentVersion(): Promise<number>;
  get(version: number): Promise<StoredVersion | undefined>;
  /** Oldest first. */
  history(): Promise<VersionMeta[]>;
  activate(request: ActivateRequest): Promise<ActivateResult>;
}

/** Rulesets in Redis under `${prefix}:routing:`; Redis is the source of truth for every hub. */
export function createRulesetStore(redis: Redis, prefix: string): RulesetStore {
  const key = (name: string): string => `${prefix}:routing:${name}`;
  const channel = key("changed");
  return {
    channel,
    async currentVersion() {
      return Number((await redis.get(key("current"))) ?? 0);
    },
    async get(version) {
      if (version === 0) return BUILT_IN_VERSION;
      const [ruleset, meta] = await redis.hmget(key(`v:${version}`), "ruleset", "meta");
      if (!ruleset || !meta) return undefined;
      return { ...(JSON.parse(meta) as VersionMeta), ruleset: JSON.parse(ruleset) as RulesetDocument };
    },
    async history() {
      const lines = await redis.lrange(key("history"), 0, -1);
      return [BUILT_IN_VERSION, ...lines.map((line) => JSON.parse(line) as VersionMeta)].map(metaOnly);
    },
    async activate({ ruleset, expected, createdBy, summary }) {
      const args = [String(expected), key("v:"), JSON.stringify(ruleset), new Date().toISOString(), createdBy, summary, channel];
      const [ok, version] = (await redis.eval(ACTIVATE, 3, key("current"), key("seq"), key("history"), ...args)) as [number, number];
      return ok === 1 ? { ok: true, version } : { ok: false, current: version };
    },
  };
}

function metaOnly({ version, createdAt, createdBy, summary, basedOn }: VersionMeta): VersionMeta {
  return { version, createdAt, createdBy, summary, basedOn };
}
