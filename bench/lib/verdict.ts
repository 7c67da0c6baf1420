// The summary lines of bench/sessions.ts: a figure, its ratio to the same run's baseline, the
// issue's target and whether it is met.
import { formatSpread, printTable, type Spread } from "./run-stats.ts";

export interface Verdict {
  figure: string;
  value: Spread;
  unit?: string;
  /** The figure over its baseline, per round. */
  ratio?: Spread;
  baseline?: string;
  target: string;
  /** Judged on the median; undefined: no target. */
  pass?: boolean;
}

export function printVerdicts(title: string, verdicts: readonly Verdict[]): void {
  console.log(`\n${title}`);
  printTable(
    ["figure", "median (min–max)", "ratio (min–max)", "baseline", "target", "verdict"],
    verdicts.map((v) => [
      v.figure,
      formatSpread(v.value, 2, v.unit ?? ""),
      v.ratio ? `${formatSpread(v.ratio, 2)}×` : "",
      v.baseline ?? "",
      v.target,
      v.pass === undefined ? "" : v.pass ? "PASS" : "MISS",
    ]),
  );
}
