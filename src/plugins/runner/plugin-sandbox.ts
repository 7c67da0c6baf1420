import ivm from "isolated-vm";
import { guestPrelude, type GuestInvoke } from "./guest-prelude.ts";
import { createHostDispatch, type RunnerServices } from "./host-capabilities.ts";
import type { FakeRoute, LoadSpec, RunnerError } from "./protocol.ts";

/** How long a busy isolate may take to answer a trivial probe before it counts as stuck. */
const PROBE_MS = 150;

export class RunnerCallError extends Error {
  override name = "RunnerCallError";
  readonly kind: RunnerError["kind"];
  readonly pluginErrorName: string | undefined;
  constructor(kind: RunnerError["kind"], message: string, pluginErrorName?: string) {
    super(message);
    this.kind = kind;
    this.pluginErrorName = pluginErrorName;
  }
}

interface Built {
  isolate: ivm.Isolate;
  context: ivm.Context;
  invoke: ivm.Reference<GuestInvoke>;
  methods: string[];
  /** Why the host disposed this isolate, so that calls still on it say so. */
  replacedFor?: "memory" | "timeout";
}

/**
 * One loaded plugin version: its isolate, rebuilt from the same code when memory runs out or
 * when a call's deadline passes while the isolate is still busy (a loop after an await, which
 * isolated-vm's own `timeout` does not cover).
 */
export class PluginSandbox {
  readonly spec: LoadSpec;
  #services: RunnerServices;
  #onRebuilt: (reason: "memory" | "timeout") => void;
  #built: Promise<Built>;
  #current: Built | undefined;
  #fakes: FakeRoute[] | null = null;
  #disposed = false;

  private constructor(spec: LoadSpec, services: RunnerServices, onRebuilt: (reason: "memory" | "timeout") => void) {
    this.spec = spec;
    this.#services = services;
    this.#onRebuilt = onRebuilt;
    this.#built = this.#build();
  }

  /** Builds the isolate and runs the bundle; rejects with a `load` error when that fails. */
  static async create(spec: LoadSpec, services: RunnerServices, onRebuilt: (reason: "memory" | "timeout") => void): Promise<PluginSandbox> {
    const sandbox = new PluginSandbox(spec, services, onRebuilt);
    await sandbox.#built;
    return sandbox;
  }

  async methods(): Promise<string[]> {
    return (await this.#built).methods;
  }

  setFakes(routes: FakeRoute[] | null): void {
    this.#fakes = routes;
  }

  async #build(): Promise<Built> {
    const isolate = new ivm.Isolate({ memoryLimit: this.spec.memoryMb });
    try {
      const context = await isolate.createContext();
      const dispatch = createHostDispatch(this.spec, this.#services, () => this.#fakes);
      const init = JSON.stringify({ config: this.spec.config, secrets: this.spec.secrets, cache: this.spec.cache });
      const bind = await context.evalClosure(`return (${guestPrelude.toString()})($0, $1);`, [new ivm.Reference(dispatch), init], {
        result: { reference: true },
        timeout: 1000,
      }) as ivm.Reference<(exports: unknown) => GuestInvoke>;
      const script = await isolate.compileScript(this.spec.code, { filename: `plugin:${this.spec.plugin}` }).catch((error: unknown) => {
        throw new RunnerCallError("load", `syntax error: ${(error as Error).message}`);
      });
      await script.run(context, { timeout: this.spec.timeoutMs }).catch((error: unknown) => {
        throw new RunnerCallError("load", `the entry failed when loaded: ${(error as Error).message}`);
      });
      const exported = context.global.getSync("__kefuExports", { reference: true });
      const invoke: ivm.Reference<GuestInvoke> = await bind.apply(undefined, [exported.derefInto()], { result: { reference: true } });
      const methods = (await context.eval(
        `Object.keys(globalThis.__kefuExports ?? {}).filter((name) => typeof globalThis.__kefuExports[name] === "function").join(",")`,
        { copy: true, timeout: 1000 },
      )) as string;
      this.#current = { isolate, context, invoke, methods: methods ? methods.split(",") : [] };
      return this.#current;
    } catch (error) {
      if (!isolate.isDisposed) isolate.dispose();
      if (error instanceof RunnerCallError) throw error;
      throw new RunnerCallError("load", (error as Error).message);
    }
  }

  /** Runs `method` with a deadline that covers CPU time and time spent awaiting host capabilities. */
  async call(method: string, inputJson: string, timeoutMs: number): Promise<string> {
    if (this.#disposed) throw new RunnerCallError("unavailable", "this plugin version was unloaded");
    const built = await this.#built;
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new RunnerCallError("timeout", `did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    const run = built.invoke.apply(undefined, [method, inputJson], {
      arguments: { copy: true },
      result: { promise: true, copy: true },
    });
    try {
      return await Promise.race([run, deadline]);
    } catch (error) {
      run.catch(() => {}); // the race's loser must not become an unhandled rejection
      throw this.#classify(built, error, timeoutMs, performance.now() - started);
    } finally {
      clearTimeout(timer);
    }
  }

  #classify(built: Built, error: unknown, timeoutMs: number, elapsedMs: number): RunnerCallError {
    if (error instanceof RunnerCallError) {
      if (error.kind === "timeout") this.#replaceIfStuck(built);
      return error;
    }
    const message = (error as Error).message ?? String(error);
    if (built.replacedFor === "timeout") {
      return new RunnerCallError("unavailable", "its isolate was replaced because another call of this plugin was stuck past its deadline");
    }
    if (built.isolate.isDisposed || /memory limit/i.test(message)) {
      this.#rebuild(built, "memory");
      return new RunnerCallError("memory", `exceeded its memory limit of ${this.spec.memoryMb} MB; its isolate was replaced`);
    }
    if (/timed out/i.test(message)) return new RunnerCallError("timeout", `did not answer within ${timeoutMs} ms (stopped after ${Math.round(elapsedMs)} ms)`);
    // e.g. a promise the plugin left rejected without a handler: isolated-vm fails the call with it.
    return new RunnerCallError("error", message);
  }

  /**
   * After a deadline: an isolate that cannot answer a trivial eval is stuck in a loop (isolated-vm's
   * own `timeout` is not used: it costs a watchdog per call and does not cover code after an
   * await), so it is replaced. New calls wait for the verdict instead of landing on it.
   */
  #replaceIfStuck(built: Built): void {
    if (this.#disposed || this.#current !== built) return;
    this.#built = (async () => {
      let timer: NodeJS.Timeout | undefined;
      const stuck = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), PROBE_MS)));
      const alive = built.context.eval("0").then(() => false, () => true);
      const isStuck = await Promise.race([alive, stuck]);
      clearTimeout(timer);
      if (!isStuck || this.#current !== built) return built;
      return this.#replace(built, "timeout");
    })();
  }

  #rebuild(old: Built, reason: "memory" | "timeout"): void {
    if (this.#disposed || this.#current !== old) {
      if (!old.isolate.isDisposed) old.isolate.dispose();
      return; // already being rebuilt
    }
    this.#built = this.#replace(old, reason);
  }

  #replace(old: Built, reason: "memory" | "timeout"): Promise<Built> {
    old.replacedFor ??= reason;
    if (!old.isolate.isDisposed) old.isolate.dispose();
    this.#current = undefined;
    const next = this.#build();
    next.then(() => this.#onRebuilt(reason), () => {});
    return next;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    void this.#built.then((built) => {
      if (!built.isolate.isDisposed) built.isolate.dispose();
    }, () => {});
  }
}
