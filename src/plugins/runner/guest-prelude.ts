/**
 * Code that runs INSIDE the isolate. It is injected with `Function.prototype.toString()` (Node
 * strips the types, leaving plain JavaScript), so it must not use imports or anything outside its
 * own body. Keeping it here rather than in a template string lets tsc and eslint check it.
 *
 * The guest never waits on the host: a `kefu.*` operation is started with `startOp` and a ticket,
 * and the host later settles that ticket through {@link GuestPort.run}; a finished call is
 * reported through `finish`. Both host functions are fire-and-forget, so the same guest works when
 * the host runs the isolate on its own thread (no thread hop at all) and on isolated-vm's pool.
 * The plugin never sees an isolated-vm object: the host functions stay in this closure.
 */

/** Starts a host operation; `ticket` < 0 asks for no answer (logging). */
export type StartOp = (op: string, payloadJson: string, ticket: number) => void;
/** Reports a call's outcome: `o<json>`, `u` (undefined), or `e<json error>` / `x<json error>` (unserialisable output). */
export type FinishCall = (callId: number, outcome: string) => void;

/**
 * What the host hands the guest, flattened so that many go in one entry into the isolate:
 * `"i", callId, method, inputJson` starts a call; `"s", ticket, answer` answers a host operation
 * (`o<json>` or `e<error message>`).
 */
export type GuestEntries = (string | number)[];

/** What the host drives inside the isolate. */
export interface GuestPort {
  run(...entries: GuestEntries): void;
}

export function guestPrelude(startOp: StartOp, finish: FinishCall, initJson: string): (exports: Record<string, unknown>) => GuestPort {
  const init = JSON.parse(initJson) as { config: Record<string, unknown>; secrets: Record<string, string>; cache: boolean };
  const deepFreeze = <T>(value: T): T => {
    if (typeof value === "object" && value !== null) {
      for (const inner of Object.values(value)) deepFreeze(inner);
      Object.freeze(value);
    }
    return value;
  };
  const waiting = new Map<number, (answer: string) => void>();
  let nextTicket = 0;
  const call = async (op: string, payload: unknown): Promise<unknown> => {
    const answer = await new Promise<string>((resolve) => {
      const ticket = nextTicket++;
      waiting.set(ticket, resolve);
      startOp(op, JSON.stringify(payload), ticket);
    });
    if (answer.startsWith("e")) throw new Error(answer.slice(1));
    return JSON.parse(answer.slice(1)) as unknown;
  };
  const log = (level: string) => (message: unknown, fields?: unknown): void => {
    startOp("log", JSON.stringify({ level, msg: String(message), fields }), -1);
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
  const run = async (exports: Record<string, unknown>, method: string, inputJson: string): Promise<string> => {
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
  return (exports) => ({
    run(...entries) {
      for (let i = 0; i < entries.length; ) {
        if (entries[i] === "i") {
          const callId = entries[i + 1] as number;
          void run(exports, String(entries[i + 2]), String(entries[i + 3])).then((outcome) => finish(callId, outcome));
          i += 4;
        } else {
          const ticket = entries[i + 1] as number;
          const resolve = waiting.get(ticket);
          waiting.delete(ticket);
          resolve?.(String(entries[i + 2]));
          i += 3;
        }
      }
    },
  });
}
