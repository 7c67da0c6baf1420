import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { test } from "node:test";

const ROOT = new URL("../../", import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, ROOT), "utf8");

// The machine's own npm and Node.js, not the project's Node 24 that `npm test` puts first on PATH.
const machinePath = (process.env["PATH"] ?? "").split(delimiter).filter((dir) => !dir.includes("node_modules")).join(delimiter);
const npm = machinePath.split(delimiter).map((dir) => join(dir, "npm")).find((file) => existsSync(file));

test("package.json's engines admit the Node.js that runs npm install, not only the Node 24 that runs the hub", () => {
  const manifest = JSON.parse(read("package.json")) as { engines: { node: string }; devDependencies: Record<string, string> };
  const lowest = /^>=(\d+)/.exec(manifest.engines.node)?.[1];
  assert.ok(lowest !== undefined && Number(lowest) <= 20, `engines.node is ${manifest.engines.node}`);
  assert.match(manifest.devDependencies["node"] ?? "", /^\^24\./, "Node 24 comes from the node devDependency");
  const lock = JSON.parse(read("package-lock.json")) as { packages: Record<string, { engines?: { node: string } }> };
  assert.equal(lock.packages[""]?.engines?.node, manifest.engines.node, "package-lock.json is in step");
});

test("npm install on this machine's Node.js warns EBADENGINE only for what the README's quick start explains", { skip: npm ? false : "no npm on PATH", timeout: 180_000 }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), "kefu-npm-install-"));
  try {
    copyFileSync(new URL("package.json", ROOT), join(dir, "package.json"));
    copyFileSync(new URL("package-lock.json", ROOT), join(dir, "package-lock.json"));
    const result = spawnSync(npm as string, ["install", "--dry-run", "--offline", "--ignore-scripts", "--no-audit", "--no-fund"], {
      cwd: dir,
      env: { PATH: machinePath, HOME: process.env["HOME"] ?? dir },
      encoding: "utf8",
      timeout: 150_000,
    });
    const output = `${result.stdout}${result.stderr}`;
    if (result.status !== 0) {
      t.skip(`npm install --offline could not run here (an empty npm cache?): ${output.slice(-300)}`);
      return;
    }
    const warned = [...output.matchAll(/EBADENGINE\s+package: '([^']+)@[^']*'/g)].map((m) => m[1] as string);
    assert.ok(!warned.includes("kefu-hub"), `npm refuses kefu-hub's own engines on this Node.js:\n${output}`);
    const quickStart = read("README.md").split("## Quick start")[1]?.split("```")[0] ?? "";
    for (const name of warned) {
      assert.match(quickStart, /EBADENGINE/, "the quick start explains the warning");
      assert.ok(quickStart.includes(`\`${name}\``), `the quick start does not explain the EBADENGINE warning for ${name}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
