import type { Redis } from "ioredis";
import { defineLuaCommand } from "../redis/lua-command.ts";
import { DEFAULT_FUSION, type FusionDocument } from "./fusion-document.ts";
import type { SessionKeys } from "./session-keys.ts";

export interface StoredFusion {
  version: number;
  /** ISO 8601. */
  updatedAt: string;
  /** Key id of the admin, or `built-in`. */
  updatedBy: string;
  document: FusionDocument;
}

/** Version 0: the shipped default, in force until someone stores a document. Never written. */
export const BUILT_IN_FUSION: StoredFusion = { version: 0, updatedAt: new Date(0).toISOString(), updatedBy: "built-in", document: DEFAULT_FUSION };

export interface FusionStore {
  readonly channel: string;
  current(): Promise<StoredFusion>;
  /** `expected`: the version the caller changed (If-Match), or `*`. */
  activate(document: FusionDocument, expected: number | "*", updatedBy: string): Promise<{ ok: true; version: number } | { ok: false; current: number }>;
}

interface FusionCommands {
  kefuActivateFusion(current: string, counter: string, ...args: string[]): Promise<[number, number]>;
}

export function createFusionStore(redis: Redis, keys: SessionKeys): FusionStore {
  defineLuaCommand(redis, "kefuActivateFusion", new URL("./lua/activate-fusion.lua", import.meta.url), 2);
  const commands = redis as unknown as FusionCommands;
  const channel = keys.fusion("changed");
  return {
    channel,
    async current() {
      const version = Number((await redis.get(keys.fusion("current"))) ?? 0);
      if (version === 0) return BUILT_IN_FUSION;
      const [document, meta] = await redis.hmget(keys.fusion(`v:${version}`), "document", "meta");
      if (!document || !meta) throw new Error(`fusion version ${version} is current but missing in Redis`);
      return { version, ...(JSON.parse(meta) as { updatedAt: string; updatedBy: string }), document: JSON.parse(document) as FusionDocument };
    },
    async activate(document, expected, updatedBy) {
      const meta = JSON.stringify({ updatedAt: new Date().toISOString(), updatedBy });
      const [ok, version] = await commands.kefuActivateFusion(keys.fusion("current"), keys.fusion("seq"), String(expected), keys.fusion("v:"), JSON.stringify(document), meta, channel);
      return ok === 1 ? { ok: true, version } : { ok: false, current: version };
    },
  };
}
