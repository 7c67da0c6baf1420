/** Call counts and a window of recent durations for one plugin, for GET /v1/plugins. */
export class PluginStats {
  calls = 0;
  errors = 0;
  #window: Float64Array;
  #next = 0;
  #filled = 0;

  /** @param windowSize how many recent durations the percentiles cover. */
  constructor(windowSize = 1024) {
    this.#window = new Float64Array(windowSize);
  }

  record(durationMs: number, failed: boolean): void {
    this.calls++;
    if (failed) this.errors++;
    this.#window[this.#next] = durationMs;
    this.#next = (this.#next + 1) % this.#window.length;
    this.#filled = Math.min(this.#filled + 1, this.#window.length);
  }

  /** The p-th percentile (0..100) of the recent durations in ms, or null without calls. */
  percentile(p: number): number | null {
    if (this.#filled === 0) return null;
    const sorted = this.#window.slice(0, this.#filled).sort();
    const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return Math.round((sorted[index] ?? 0) * 1000) / 1000;
  }
}
