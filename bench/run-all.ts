// `npm run bench` runs every bench/*.ts in turn; `npm run bench -- http delivery` only those.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL(".", import.meta.url));
const wanted = process.argv.slice(2);
const benches = readdirSync(dir)
  .filter((name) => name.endsWith(".ts") && name !== "run-all.ts")
  .map((name) => name.slice(0, -3))
  .filter((name) => wanted.length === 0 || wanted.includes(name));

let failed = 0;
for (const name of benches) {
  console.log(`\n=== bench/${name}.ts`);
  const result = spawnSync(process.execPath, [`${dir}${name}.ts`], { stdio: "inherit" });
  if (result.status !== 0) failed += 1;
}
process.exitCode = failed === 0 ? 0 : 1;
