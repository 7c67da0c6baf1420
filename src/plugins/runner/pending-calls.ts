import type { RunnerError } from "./protocol.ts";

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

interface PendingCall {
  resolve(outcome: string): void;
  reject(error: RunnerCallError): void;
  /** performance.now() by which the call must have finished. */
  deadline: number;
  timeoutMs: number;
  timer: NodeJS.Timeout;
}

/** The calls one isolate is working on, each with its deadline timer. */
export class PendingCalls {
  #calls = new Map<number, PendingCall>();
  #nextId = 0;

  /** Registers a call; `onExpired` runs if its deadline passes first (after the call was failed). */
  add(timeoutMs: number, onExpired: () => void): { id: number; outcome: Promise<string> } {
    const id = this.#nextId++;
    const outcome = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(id, new RunnerCallError("timeout", `did not answer within ${timeoutMs} ms`));
        onExpired();
      }, timeoutMs);
      this.#calls.set(id, { resolve, reject, deadline: performance.now() + timeoutMs, timeoutMs, timer });
    });
    return { id, outcome };
  }

  finish(id: number, outcome: string): void {
    const call = this.#take(id);
    call?.resolve(outcome);
  }

  fail(id: number, error: RunnerCallError): void {
    this.#take(id)?.reject(error);
  }

  /** Fails every call: those past their deadline with `timeout`, the others with `others`. */
  failAll(others: RunnerCallError): void {
    const now = performance.now();
    for (const [id, call] of [...this.#calls]) {
      this.fail(id, now >= call.deadline - 1 ? new RunnerCallError("timeout", `did not answer within ${call.timeoutMs} ms`) : others);
    }
  }

  /** How long guest code may run on the host thread now: until the latest deadline of these calls. */
  budgetMs(fallbackMs: number): number {
    if (this.#calls.size === 0) return fallbackMs;
    let latest = 0;
    for (const call of this.#calls.values()) latest = Math.max(latest, call.deadline);
    return Math.max(1, Math.ceil(latest - performance.now()));
  }

  #take(id: number): PendingCall | undefined {
    const call = this.#calls.get(id);
    if (!call) return undefined;
    this.#calls.delete(id);
    clearTimeout(call.timer);
    return call;
  }
}
