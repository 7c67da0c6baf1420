import ivm from "isolated-vm";
import { guestPrelude, type FinishCall, type GuestEntries, type GuestPort, type StartOp } from "./guest-prelude.ts";
import { createHostDispatch, type RunnerServices } from "./host-capabilities.ts";
import { PendingCalls, RunnerCallError } from "./pending-calls.ts";
import type { FakeRoute, IsolateHeap, LoadSpec } from "./protocol.ts";

/** How long a busy isolate may take to answer a trivial probe before it counts as stuck. */
const PROBE_MS = 150;
/** Most slots of entries handed to the guest at once (a function takes at most ~65k arguments). */
const MAX_BATCH = 4096;

/** Slots of the entry starting at `at`: a call start has four, a ticket's answer three. */
function entryLength(entries: GuestEntries, at: number): number {
  return entries[at] === "i" ? 4 : 3;
}

/** Where the first batch of `entries` ends: at most {@link MAX_BATCH} slots, never inside an entry. */
function batchEnd(entries: GuestEntries): number {
  let end = 0;
  while (end < entries.length && end + entryLength(entries, end) <= MAX_BATCH) end += entryLength(entries, end);
  return end;
}

/**
 * Where the guest's code runs. `inline`: on the runner's own thread, entered synchronously with a
 * timeout; no thread hop per call or per `kefu.*` answer, which is what makes the fetch bridge fast
 * (bench/plugins.ts). The calls and answers of one turn of the event loop go in together: each
 * entry with a timeout costs isolated-vm a timer, kept in its timer thread's queue until it would
 * have fired. `threaded`: on isolated-vm's thread pool, where a loop cannot hold up other
 * plugins. A version whose code once ran past its deadline on the runner's thread is moved to
 * `threaded` for the rest of its life, so a plugin that loops delays the others at most once.
 */
type Mode = "inline" | "threaded";

interface Built {
  isolate: ivm.Isolate;
  context: ivm.Context;
  run: ivm.Reference<GuestPort["run"]>;
  methods: string[];
  calls: PendingCalls;
  /** Entries waiting for this turn's entry into the isolate (inline mode). */
  queued: GuestEntries;
  /** Why the host disposed this isolate, so that calls still on it say so. */
  replacedFor?: RebuildReason;
}

type RebuildReason = "memory" | "timeout";

/**
 * One loaded plugin version: its isolate, rebuilt from the same code when memory runs out or
 * when guest code is still busy after a call's deadline.
 */
export class PluginSandbox {
  readonly spec: LoadSpec;
  #services: RunnerServices;
  #onRebuilt: (reason: RebuildReason) => void;
  #built: Promise<Built>;
  #current: Built | undefined;
  #fakes: FakeRoute[] | null = null;
  #mode: Mode = "inline";
  #disposed = false;

  private constructor(spec: LoadSpec, services: RunnerServices, onRebuilt: (reason: RebuildReason) => void) {
    this.spec = spec;
    this.#services = services;
    this.#onRebuilt = onRebuilt;
    this.#built = this.#build();
  }

  /** Builds the isolate and runs the bundle; rejects with a `load` error when that fails. */
  static async create(spec: LoadSpec, services: RunnerServices, onRebuilt: (reason: RebuildReason) => void): Promise<PluginSandbox> {
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
      const calls = new PendingCalls();
      const dispatch = createHostDispatch(this.spec, this.#services, () => this.#fakes);
      // Answers go to the isolate that asked, never to one that replaced it.
      const asking: { built?: Built } = {};
      const startOp: StartOp = (op, payloadJson, ticket) => {
        void dispatch(op, payloadJson).then((answer) => {
          const built = asking.built;
          if (ticket >= 0 && built) this.#enter(built, ["s", ticket, answer]);
        });
      };
      const finish: FinishCall = (callId, outcome) => calls.finish(callId, outcome);
      const init = JSON.stringify({ config: this.spec.config, secrets: this.spec.secrets, cache: this.spec.cache });
      // `ignored` callbacks: the guest never blocks on the host, whichever thread it runs on.
      const bind = await context.evalClosure(`return (${guestPrelude.toString()})($0, $1, $2);`, [
        new ivm.Callback(startOp, { ignored: true }),
        new ivm.Callback(finish, { ignored: true }),
        init,
      ], { result: { reference: true }, timeout: 1000 }) as ivm.Reference<(exports: unknown) => GuestPort>;
      const script = await isolate.compileScript(this.spec.code, { filename: `plugin:${this.spec.plugin}` }).catch((error: unknown) => {
        throw new RunnerCallError("load", `syntax error: ${(error as Error).message}`);
      });
      await script.run(context, { timeout: this.spec.timeoutMs }).catch((error: unknown) => {
        throw new RunnerCallError("load", `the entry failed when loaded: ${(error as Error).message}`);
      });
      const exported = context.global.getSync("__kefuExports", { reference: true });
      const port: ivm.Reference<GuestPort> = await bind.apply(undefined, [exported.derefInto()], { result: { reference: true } });
      const methods = (await context.eval(
        `Object.keys(globalThis.__kefuExports ?? {}).filter((name) => typeof globalThis.__kefuExports[name] === "function").join(",")`,
        { copy: true, timeout: 1000 },
      )) as string;
      const built: Built = {
        isolate,
        context,
        run: port.getSync("run", { reference: true }),
        methods: methods ? methods.split(",") : [],
        calls,
        queued: [],
      };
      asking.built = built;
      this.#current = built;
      return built;
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
    const { id, outcome } = built.calls.add(timeoutMs, () => {
      if (this.#mode === "threaded") this.#replaceIfStuck(built);
    });
    this.#enter(built, ["i", id, method, inputJson]);
    return outcome;
  }

  /** Hands entries to the guest: on the thread pool at once, inline with the others of this turn. */
  #enter(built: Built, entries: GuestEntries): void {
    if (this.#mode === "threaded") {
      this.#runOnPool(built, entries);
      return;
    }
    if (built.queued.length === 0) setImmediate(() => this.#flush(built));
    built.queued.push(...entries);
  }

  #flush(built: Built): void {
    while (built.queued.length > 0) {
      const end = batchEnd(built.queued);
      const entries = end === built.queued.length ? built.queued : built.queued.slice(0, end);
      built.queued = end === built.queued.length ? [] : built.queued.slice(end);
      if (this.#mode === "threaded") {
        this.#runOnPool(built, entries);
        continue;
      }
      if (built.isolate.isDisposed) {
        this.#failEntries(built, entries, this.#goneError(built));
        continue;
      }
      try {
        built.run.applySync(undefined, entries, { arguments: { copy: true }, timeout: built.calls.budgetMs(this.spec.timeoutMs) });
      } catch (error) {
        this.#entryFailed(built, error, entries);
      }
    }
  }

  #runOnPool(built: Built, entries: GuestEntries): void {
    if (built.isolate.isDisposed) {
      this.#failEntries(built, entries, this.#goneError(built));
      return;
    }
    built.run.apply(undefined, entries, { arguments: { copy: true } }).catch((error: unknown) => this.#entryFailed(built, error, entries));
  }

  /** Fails the calls these entries start. */
  #failEntries(built: Built, entries: GuestEntries, error: RunnerCallError): void {
    for (let i = 0; i < entries.length; i += entryLength(entries, i)) {
      if (entries[i] === "i") built.calls.fail(entries[i + 1] as number, error);
    }
  }

  #entryFailed(built: Built, error: unknown, entries: GuestEntries): void {
    const message = (error as Error).message ?? String(error);
    if (this.#disposed || built.replacedFor === "timeout") {
      built.calls.failAll(this.#goneError(built));
    } else if (built.isolate.isDisposed || /memory limit/i.test(message)) {
      built.replacedFor ??= "memory";
      this.#rebuild(built, "memory");
      built.calls.failAll(this.#goneError(built));
    } else if (/timed out/i.test(message)) {
      this.#quarantine(built);
    } else {
      // e.g. a promise the plugin left rejected without a handler: isolated-vm fails the entry with it.
      // The calls started by it that have not finished fail with that error; the others go on.
      this.#failEntries(built, entries, new RunnerCallError("error", message));
    }
  }

  /** Guest code ran past every deadline on the runner's thread: replace the isolate and stop running it there. */
  #quarantine(built: Built): void {
    this.#mode = "threaded";
    this.#log("warn", `ran past its deadline on the runner's thread; this version now runs on a thread of its own until it is reloaded`);
    this.#rebuild(built, "timeout");
    built.calls.failAll(this.#goneError(built));
  }

  /** Why calls still on a disposed isolate fail. */
  #goneError(built: Built): RunnerCallError {
    if (this.#disposed) return new RunnerCallError("unavailable", "this plugin version was unloaded");
    if (built.replacedFor === "memory") return new RunnerCallError("memory", `exceeded its memory limit of ${this.spec.memoryMb} MB; its isolate was replaced`);
    return new RunnerCallError("unavailable", "its isolate was replaced because another call of this plugin was stuck past its deadline");
  }

  /**
   * After a deadline on the thread pool: an isolate that cannot answer a trivial eval is stuck in a
   * loop (isolated-vm's own `timeout` is not used there: it costs a watchdog per call and does not
   * cover code after an await), so it is replaced. New calls wait for the verdict instead of landing on it.
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
      const next = this.#replace(built, "timeout");
      built.calls.failAll(this.#goneError(built));
      return next;
    })();
  }

  #rebuild(old: Built, reason: RebuildReason): void {
    if (this.#disposed || this.#current !== old) {
      if (!old.isolate.isDisposed) old.isolate.dispose();
      return; // already being rebuilt
    }
    this.#built = this.#replace(old, reason);
  }

  #replace(old: Built, reason: RebuildReason): Promise<Built> {
    old.replacedFor ??= reason;
    if (!old.isolate.isDisposed) old.isolate.dispose();
    this.#current = undefined;
    const next = this.#build();
    next.then(() => this.#onRebuilt(reason), () => {});
    return next;
  }

  #log(level: "warn", msg: string): void {
    this.#services.send({ t: "log", plugin: this.spec.plugin, level, msg });
  }

  /**
   * The isolate's heap as isolated-vm reports it, or undefined while it is (re)built or gone.
   * Asynchronous: the sync form would block the runner while guest code holds the isolate.
   */
  async heapStatistics(): Promise<IsolateHeap | undefined> {
    const built = this.#current;
    if (this.#disposed || !built || built.isolate.isDisposed) return undefined;
    const stats = await built.isolate.getHeapStatistics();
    return { usedHeapBytes: stats.used_heap_size, totalHeapBytes: stats.total_heap_size, limitBytes: stats.heap_size_limit, externalBytes: stats.externally_allocated_size };
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    void this.#built.then((built) => {
      built.calls.failAll(this.#goneError(built));
      if (!built.isolate.isDisposed) built.isolate.dispose();
    }, () => {});
  }
}
