/**
 * Code that runs INSIDE the isolate. It is injected with `Function.prototype.toString()` (Node
 * strips the types, leaving plain JavaScript), so it must not use imports or anything outside its
 * own body. Keeping it here rather than in a template string lets tsc and eslint check it.
 *
 * It builds the `kefu` global from one host reference, which it keeps in a closure: the plugin
 * never sees an isolated-vm object.
 */

/** The one host function the guest may call, as seen from inside the isolate. */
export interface GuestHostRef {
  apply(receiver: undefined, args: [string, string], options: { arguments: { copy: true }; result: { promise: true; copy: true } }): Promise<string>;
  applyIgnored(receiver: undefined, args: [string, string], options: { arguments: { copy: true } }): void;
}

/** Calls an exported method; answers `o<json>`, `u` (undefined), or `e<json error>` / `x<json error>` (unserialisable output). */
export type GuestInvoke = (method: string, inputJson: string) => Promise<string>;

export function guestPrelude(host: GuestHostRef, initJson: string): (exports: Record<string, unknown>) => GuestInvoke {
  const init = JSON.parse(initJson) as { config: Record<string, unknown>; secrets: Record<string, string>; cache: boolean };
  const deepFreeze = <T>(value: T): T => {
    if (typeof value === "object" && value !== null) {
      for (const inner of Object.values(value)) deepFreeze(inner);
      Object.freeze(value);
    }
    return value;
  };
  const call = async (op: string, payload: unknown): Promise<unknown> => {
    const answer = await host.apply(undefined, [op, JSON.stringify(payload)], { arguments: { copy: true }, result: { promise: true, copy: true } });
    if (answer.startsWith("e")) throw new Error(answer.slice(1));
    return JSON.parse(answer.slice(1)) as unknown;
  };
  const log = (level: string) => (message: unknown, fields?: unknown): void => {
    host.applyIgnored(undefined, ["log", JSON.stringify({ level, msg: String(message), fields })], { arguments: { copy: true } });
  };
  const noCache = async (): Promise<never> => {
    throw new Error('kefu.cache needs "capabilities": {"cache": true} in plugin.json');
  };
  interface FetchAnswer { status: number; headers: Record<string, string>; body: string; redirectedTo?: string }
  const kefu = {
    http: {
      async fetch(url: unknown, options: Record<string, unknown> = {}) {
        const answer = (await call("fetch", { url: String(url), ...options })) as FetchAnswer;
        const body = answer.body;
        return Object.freeze({
          status: answer.status,
          ok: answer.status >= 200 && answer.status < 300,
          headers: Object.freeze(answer.headers),
          redirectedTo: answer.redirectedTo,
          text: async () => body,
          json: async () => JSON.parse(body) as unknown,
        });
      },
    },
    cache: init.cache
      ? {
          get: (key: unknown) => call("cache.get", { key: String(key) }),
          set: async (key: unknown, value: unknown, ttlSeconds?: unknown) => {
            await call("cache.set", { key: String(key), value, ttlSeconds });
          },
        }
      : { get: noCache, set: noCache },
    log: { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") },
    config: deepFreeze(init.config),
    secrets: deepFreeze(init.secrets),
  };
  Object.defineProperty(globalThis, "kefu", { value: deepFreeze(kefu), enumerable: false, writable: false, configurable: false });

  // Errors leave as plain data: name and message only, never a stack or an object of the isolate.
  const describe = (error: unknown): string => {
    const e = error as { name?: unknown; message?: unknown } | null;
    const name = typeof e?.name === "string" ? e.name : "Error";
    const message = typeof e?.message === "string" ? e.message : String(error);
    return JSON.stringify({ name, message });
  };
  return (exports) => async (method, inputJson) => {
    const fn = exports[method];
    if (typeof fn !== "function") return "e" + JSON.stringify({ name: "Error", message: `the plugin does not export ${method}()` });
    let value: unknown;
    try {
      value = await (fn as (input: unknown) => unknown)(JSON.parse(inputJson));
    } catch (error) {
      return "e" + describe(error);
    }
    if (value === undefined) return "u";
    try {
      return "o" + JSON.stringify(value);
    } catch (error) {
      return "x" + describe(error);
    }
  };
}
