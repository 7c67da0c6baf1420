import { fork, type ChildProcess } from "node:child_process";
import type { Logger } from "pino";
import { batchingSender, type FromRunner, type RunnerError, type RunnerInit, type ToRunner } from "./runner/protocol.ts";

/** Distributes `Omit` over the union, so that each message keeps its own fields. */
type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;

export type RunnerSend = (message: WithoutId<ToRunner>, backstopMs: number) => Promise<string>;

export class RunnerReplyError extends Error {
  override name = "RunnerReplyError";
  readonly error: RunnerError;
  constructor(error: RunnerError) {
    super(error.message);
    this.error = error;
  }
}

export interface RunnerClientOptions {
  logger: Logger;
  init: RunnerInit;
  /**
   * Called after a restarted runner is up, before calls resume: reload the plugins into it with
   * `send` (plain `request` would wait for this very restart to finish).
   */
  onRestart(send: RunnerSend): Promise<void>;
  /** Logs and isolate replacements reported by the runner. */
  onEvent(message: Extract<FromRunner, { t: "log" | "restarted" }>): void;
  /** @defaultValue runner/runner-main.ts beside this file */
  entry?: URL;
}

interface Pending {
  resolve(value: string): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * The API process's side of the plugin runner: starts it, correlates requests and replies, and
 * restarts it (with backoff) when it dies, failing the calls in flight with a clear error.
 */
export class RunnerClient {
  #options: RunnerClientOptions;
  #child: ChildProcess | undefined;
  #post: (message: ToRunner) => void = () => {};
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #ready: Promise<void> | undefined;
  /** `#ready` has resolved and the runner has not died since: calls skip waiting for it. */
  #up = false;
  #closed = false;
  #crashes = 0;
  #upSince = 0;
  #restarts = 0;

  constructor(options: RunnerClientOptions) {
    this.#options = options;
  }

  /** How many times the runner was restarted after dying. */
  get restarts(): number {
    return this.#restarts;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  start(): Promise<void> {
    if (!this.#ready) this.#ready = this.#whenUp(this.#spawn());
    return this.#ready;
  }

  #whenUp(ready: Promise<void>): Promise<void> {
    ready.then(() => {
      if (this.#ready === ready) this.#up = true;
    }, () => {});
    return ready;
  }

  /** Resolves when the runner is up (or rejects when closed). Calls wait here during a restart. */
  ready(): Promise<void> {
    return this.start();
  }

  isUp(): boolean {
    return this.#child !== undefined && this.#child.connected;
  }

  /** Sends a message and waits for its reply; `backstopMs` bounds the wait should the runner hang or be restarting. */
  async request(message: WithoutId<ToRunner>, backstopMs: number): Promise<string> {
    if (this.#up) return this.#send(message, backstopMs);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new RunnerReplyError({ kind: "unavailable", message: `the plugin runner is restarting and was not back within ${backstopMs} ms` })), backstopMs);
    });
    try {
      await Promise.race([this.ready(), late]);
    } finally {
      clearTimeout(timer);
    }
    return this.#send(message, backstopMs);
  }

  #send(message: WithoutId<ToRunner>, backstopMs: number): Promise<string> {
    const child = this.#child;
    if (!child?.connected) return Promise.reject(new RunnerReplyError({ kind: "unavailable", message: "the plugin runner is not running" }));
    const id = this.#nextId++;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new RunnerReplyError({ kind: "timeout", message: `the plugin runner did not answer within ${backstopMs} ms` }));
      }, backstopMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.#post({ ...message, id });
    });
  }

  async #spawn(): Promise<void> {
    if (this.#closed) throw new Error("the plugin host is closed");
    const entry = this.#options.entry ?? new URL("./runner/runner-main.ts", import.meta.url);
    const child = fork(entry, [JSON.stringify(this.#options.init)], {
      execPath: process.execPath,
      // isolated-vm needs --no-node-snapshot on Node >= 20.
      execArgv: ["--no-node-snapshot", "--disable-warning=ExperimentalWarning"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      serialization: "advanced",
    });
    this.#child = child;
    // Neither the process nor its channel keeps the API process alive by itself: a hub that is
    // dropped without close() must not hang its process; calls in flight hold a timer instead.
    child.unref();
    child.channel?.unref();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error("the plugin runner did not start within 15 s"));
      }, 15_000);
      const onExit = (code: number | null, signal: string | null): void => {
        clearTimeout(timer);
        reject(new Error(`the plugin runner exited while starting (code ${code}, signal ${signal})`));
      };
      child.once("exit", onExit);
      child.once("message", () => {
        clearTimeout(timer);
        child.off("exit", onExit);
        resolve();
      });
    });
    child.on("message", (batch: FromRunner[]) => {
      for (const message of batch) this.#onMessage(message);
    });
    this.#post = batchingSender<ToRunner>((batch) => {
      if (child.connected) child.send(batch);
    });
    child.once("exit", (code, signal) => this.#onExit(child, code, signal));
    this.#upSince = Date.now();
  }

  #onMessage(message: FromRunner): void {
    if (message.t === "reply") {
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id);
      clearTimeout(pending.timer);
      if (message.ok) pending.resolve(message.value);
      else pending.reject(new RunnerReplyError(message.error));
    } else if (message.t === "log" || message.t === "restarted") {
      this.#options.onEvent(message);
    }
  }

  #onExit(child: ChildProcess, code: number | null, signal: string | null): void {
    if (this.#child !== child) return;
    this.#child = undefined;
    this.#up = false;
    const reason = `the plugin runner died (exit code ${code}, signal ${signal}) during the call; it is being restarted`;
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(new RunnerReplyError({ kind: "unavailable", message: reason }));
      this.#pending.delete(id);
    }
    if (this.#closed) return;
    this.#options.logger.error({ code, signal }, "plugin runner died; restarting it");
    this.#restarts++;
    this.#scheduleRestart();
  }

  #scheduleRestart(): void {
    // Backoff grows while the runner keeps dying soon after it started (say a plugin that crashes it
    // on every call), and starts over once it stayed up for a while.
    if (Date.now() - this.#upSince > 30_000) this.#crashes = 0;
    const delayMs = Math.min(5000, 100 * 2 ** this.#crashes++);
    this.#ready = this.#whenUp(new Promise<void>((resolve) => setTimeout(resolve, delayMs))
      .then(() => this.#spawn())
      .then(() => this.#options.onRestart((message, backstopMs) => this.#send(message, backstopMs))));
    this.#ready.catch((error: unknown) => {
      this.#options.logger.error({ err: error }, "plugin runner failed to restart; trying again");
      if (!this.#closed) this.#scheduleRestart();
    });
  }

  /** Stops the runner; idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.disconnect();
    const kill = setTimeout(() => child.kill("SIGKILL"), 2000);
    await exited;
    clearTimeout(kill);
  }
}
