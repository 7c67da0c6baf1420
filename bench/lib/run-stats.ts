/** Median and spread of one figure over runs (NaNs, e.g. from a skipped run, left out). */
export interface Spread {
  median: number;
  min: number;
  max: number;
  values: number[];
}

export function spreadOf(raw: readonly number[]): Spread {
  const values = raw.filter((value) => Number.isFinite(value));
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  const median = sorted.length === 0 ? NaN : sorted.length % 2 === 1 ? (sorted[Math.floor(middle)] ?? NaN) : ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
  return { median, min: sorted[0] ?? NaN, max: sorted[sorted.length - 1] ?? NaN, values };
}

/** Fixed decimals below 100, thousands separators above: `3.14`, `2,040`. */
export function formatFigure(value: number, decimals = 2): string {
  if (!Number.isFinite(value)) return "-";
  return Math.abs(value) >= 100 ? Math.round(value).toLocaleString("en-US") : value.toFixed(decimals);
}

/** `2,040 (1,962–2,167)`, `1.42× (1.30–1.61)`; just the value for one run. */
export function formatSpread(spread: Spread, decimals = 2, unit = ""): string {
  const median = `${formatFigure(spread.median, decimals)}${unit}`;
  return spread.values.length <= 1 ? median : `${median} (${formatFigure(spread.min, decimals)}–${formatFigure(spread.max, decimals)})`;
}

/** Columns padded to their widest cell, two spaces apart. */
export function printTable(header: readonly string[], lines: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((line) => (line[i] ?? "").length)));
  const format = (cells: readonly string[]): string => cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  console.log(format(header));
  for (const line of lines) console.log(format(line));
}
