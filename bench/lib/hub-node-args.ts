import { readFileSync } from "node:fs";

/**
 * The Node.js flags `npm start` runs the hub with (read from package.json's start script), so that
 * benchmarks measure the hub as it is shipped. BENCH_HUB_NODE_ARGS overrides them for experiments.
 */
export function hubNodeArgs(): string[] {
  const override = process.env["BENCH_HUB_NODE_ARGS"];
  if (override !== undefined) return override.split(" ").filter(Boolean);
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { scripts: { start: string } };
  return pkg.scripts.start.split(" ").filter((word) => word.startsWith("--"));
}
