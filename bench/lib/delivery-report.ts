import type { LatencyResult, ThroughputResult } from "./delivery-phases.ts";
import type { CaseName } from "./delivery-targets.ts";
import { formatFigure, formatSpread, printTable, spreadOf } from "./run-stats.ts";
import type { SignatureCheck } from "./webhook-receiver.ts";

export type CaseOutcome =
  | { kind: "measured"; latency?: LatencyResult; throughput: ThroughputResult; checks: SignatureCheck }
  | { kind: "skipped" | "failed"; reason: string };

/** Outcomes by case, one per run (index = run). */
export type Outcomes = Map<CaseName, CaseOutcome[]>;

type Measured = Extract<CaseOutcome, { kind: "measured" }>;
const measured = (outcome: CaseOutcome | undefined): Measured | undefined => (outcome?.kind === "measured" ? outcome : undefined);

const FIGURES: { label: string; decimals?: number; of: (m: Measured) => number | undefined }[] = [
  { label: "events/s delivered", of: (m) => m.throughput.eventsPerSecond },
  { label: "202s/s", of: (m) => m.throughput.acceptedPerSecond },
  { label: "p50 ms", of: (m) => m.latency?.p50 },
  { label: "p99 ms", of: (m) => m.latency?.p99 },
  { label: "max ms", of: (m) => m.latency?.max },
  { label: "CPU µs/event tested", decimals: 0, of: (m) => m.throughput.cpu.tested },
  { label: "CPU µs/event bench", decimals: 0, of: (m) => m.throughput.cpu.bench },
  { label: "CPU µs/event redis", decimals: 0, of: (m) => m.throughput.cpu.redis },
  { label: "out of order", decimals: 0, of: (m) => m.throughput.outOfOrder },
];

/** A table per case: median, min–max and every run's value of each figure. */
export function printCaseTables(outcomes: Outcomes, describe: (name: CaseName) => string): void {
  for (const [name, runs] of outcomes) {
    console.log(`\n${name}: ${describe(name)}`);
    const reasons = runs.flatMap((run, r) => (run.kind === "measured" ? [] : [`run ${r + 1} ${run.kind === "failed" ? "failed: " : ""}${run.reason}`]));
    for (const reason of reasons) console.log(`  ${reason}`);
    const ok = runs.map(measured);
    if (ok.every((m) => m === undefined)) continue;
    const lines = FIGURES.map(({ label, decimals, of }) => {
      const values = ok.map((m) => (m ? (of(m) ?? NaN) : NaN));
      return [label, formatSpread(spreadOf(values), decimals), values.map((v) => formatFigure(v, decimals)).join(" ")];
    }).filter((line) => line[1] !== "-");
    const checks = ok.reduce((sum, m) => ({ ok: sum.ok + (m?.checks.ok ?? 0), failed: sum.failed + (m?.checks.failed ?? 0) }), { ok: 0, failed: 0 });
    const firstError = ok.find((m) => m?.checks.firstError)?.checks.firstError;
    lines.push(["signatures verified", `${checks.ok} ok, ${checks.failed} failed${firstError ? ` (${firstError})` : ""}`, ""]);
    printTable(["figure", "median (min–max)", "per run"], lines);
  }
}

interface Target {
  label: string;
  /** The figure in one run, from the case's and the glue's outcomes of that run. */
  of: (hub: Measured, glue: Measured | undefined, run: number) => number | undefined;
  unit: string;
  meets?: (value: number) => boolean;
  target?: string;
}

const targetsFor = (name: CaseName): Target[] => [
  { label: `p99 ${name}`, unit: " ms", of: (h) => h.latency?.p99, meets: (v) => v < 20, target: "< 20 ms" },
  { label: `p99 ${name}/glue`, unit: "×", of: (h, g) => ratio(h.latency?.p99, g?.latency?.p99), meets: (v) => v <= 3, target: "≤ 3×" },
  { label: `p50 ${name}/glue`, unit: "×", of: (h, g) => ratio(h.latency?.p50, g?.latency?.p50), meets: (v) => v <= 2, target: "≤ 2×" },
  { label: `throughput ${name}/glue`, unit: "×", of: (h, g) => ratio(h.throughput.eventsPerSecond, g?.throughput.eventsPerSecond), meets: (v) => v >= 0.8, target: "≥ 0.8×" },
  { label: `CPU µs/event ${name}/glue`, unit: "×", of: (h, g) => ratio(h.throughput.cpu.tested, g?.throughput.cpu.tested), meets: (v) => v <= 1.5, target: "≤ 1.5×" },
];

const ratio = (a: number | undefined, b: number | undefined): number => (a ?? NaN) / (b ?? NaN);

/** Ratios against the glue, computed within each run, then their median and spread; PASS/MISS on the median. */
export function printRatios(outcomes: Outcomes): void {
  const glue = outcomes.get("glue");
  console.log("\nagainst the glue (ratios taken within each run, then median (min–max) over runs)");
  const lines: string[][] = [];
  for (const [name, runs] of outcomes) {
    if (name === "glue") continue;
    const pairs = runs.map((run, r) => ({ hub: measured(run), glue: measured(glue?.[r]) }));
    const targets: Target[] = name === "hub-ordered"
      ? [
          { label: `throughput ${name}/glue`, unit: "×", of: (h, g) => ratio(h.throughput.eventsPerSecond, g?.throughput.eventsPerSecond) },
          { label: `throughput ${name}/hub`, unit: "×", of: (h, _g, r) => ratio(h.throughput.eventsPerSecond, measured(outcomes.get("hub")?.[r])?.throughput.eventsPerSecond) },
        ]
      : name === "hub-shaped"
        ? [
            { label: `throughput ${name}/hub`, unit: "×", of: (h, _g, r) => ratio(h.throughput.eventsPerSecond, measured(outcomes.get("hub")?.[r])?.throughput.eventsPerSecond), meets: (v) => v >= 0.9, target: "≥ 0.9×" },
            { label: `CPU µs/event ${name}/hub`, unit: "×", of: (h, _g, r) => ratio(h.throughput.cpu.tested, measured(outcomes.get("hub")?.[r])?.throughput.cpu.tested) },
            { label: `p99 ${name}/hub`, unit: "×", of: (h, _g, r) => ratio(h.latency?.p99, measured(outcomes.get("hub")?.[r])?.latency?.p99) },
          ]
        : targetsFor(name);
    for (const target of targets) {
      const values = pairs.map(({ hub, glue: g }, r) => (hub ? (target.of(hub, g, r) ?? NaN) : NaN));
      const spread = spreadOf(values);
      if (spread.values.length === 0) continue;
      const met = target.meets ? spread.values.filter(target.meets).length : undefined;
      const verdict = target.meets ? `${target.meets(spread.median) ? "PASS" : "MISS"} (met in ${met}/${spread.values.length} runs)` : "(no target)";
      lines.push([target.label, formatSpread(spread, 2, target.unit), target.target ? `target ${target.target}` : "", verdict]);
    }
  }
  if (lines.length === 0) console.log("  (no pair of glue and hub measured in the same run)");
  else printTable(["figure", "median (min–max)", "target", "verdict"], lines);
}
