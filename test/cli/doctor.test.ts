import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { promisify } from "node:util";
import { TEST_REDIS_URL } from "../helpers/test-hub.ts";

// `kefu-hub doctor` (issue 15 item 5) as a process against the test Redis: it only reads (INFO,
// CONFIG GET, TIME), so it needs no key prefix of its own. Exit 0 pass, 1 warn, 2 fail.
const run = promisify(execFile);
const bin = new URL("../../bin/kefu-hub.js", import.meta.url).pathname;
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Finding {
  check: string;
  level: "pass" | "warn" | "fail";
  message: string;
  fix?: string;
}

/** Runs doctor with exactly `env` (plus PATH); resolves with its exit code and output, whatever the code. */
async function doctor(env: Record<string, string>, args: string[] = ["--json"]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, "doctor", ...args], { env: { PATH: process.env["PATH"] ?? "", ...env }, timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const findingsOf = (stdout: string): { exitCode: number; findings: Finding[] } => JSON.parse(stdout) as { exitCode: number; findings: Finding[] };
const byCheck = (findings: Finding[]): Map<string, Finding> => new Map(findings.map((finding) => [finding.check, finding]));

/** A plugins folder with one manifest per [name, kind]. */
function pluginsDir(plugins: [string, string][]): string {
  const dir = mkdtempSync(join(tmpdir(), "kefu-doctor-"));
  dirs.push(dir);
  for (const [name, kind] of plugins) {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, "plugin.json"), JSON.stringify({ name, kind, version: "1.0.0" }));
  }
  return dir;
}

const GOOD = { REDIS_URL: TEST_REDIS_URL, KEFU_API_KEYS: "doctor-admin-key-0123456789abcdef=admin", KEFU_DEMO_BUSINESS_SYSTEM: "false" };

test("a sound setup: Redis 7, noeviction, one primary, the clock in step; only AOF may warn", async () => {
  const { code, stdout } = await doctor({ ...GOOD, KEFU_PLUGINS_DIR: pluginsDir([["shop-orders", "orders"], ["shop-crm", "crm"]]) });
  const { exitCode, findings } = findingsOf(stdout);
  assert.equal(code, exitCode);
  const checks = byCheck(findings);
  for (const name of ["redis.connect", "redis.version", "redis.eviction", "redis.cluster", "clock", "keys", "bind", "delivery.private-cidrs", "plugins.orders", "plugins.crm", "demo"]) {
    assert.equal(checks.get(name)?.level, "pass", `${name}: ${checks.get(name)?.message}`);
  }
  // The test Redis runs without AOF here (CI may turn it on): a warning, never a failure.
  const others = findings.filter((finding) => finding.level !== "pass");
  assert.ok(others.every((finding) => finding.check === "redis.persistence" && finding.level === "warn"), JSON.stringify(others));
  assert.equal(code, others.length === 0 ? 0 : 1);
});

test("a dangerous setup fails, naming each problem and its fix", async () => {
  const { code, stdout } = await doctor({
    REDIS_URL: TEST_REDIS_URL,
    NODE_ENV: "production",
    HOST: "0.0.0.0",
    KEFU_DELIVERY_ALLOW_CIDRS: "10.0.0.0/8,0.0.0.0/0",
    KEFU_PLUGINS_DIR: pluginsDir([["demo-orders", "orders"], ["shop-orders", "orders"], ["shop-payments", "payments"]]),
    KEFU_PLUGIN_KINDS: "payments=stripe",
  });
  assert.equal(code, 2);
  const checks = byCheck(findingsOf(stdout).findings);
  const failed = (name: string, pattern: RegExp): void => {
    const finding = checks.get(name);
    assert.equal(finding?.level, "fail", `${name}: ${JSON.stringify(finding)}`);
    assert.match(finding?.message ?? "", pattern);
    assert.ok(finding?.fix, `${name} says what to fix`);
  };
  failed("bind", /HOST=0\.0\.0\.0 without API keys/);
  failed("delivery.private-cidrs", /0\.0\.0\.0\/0/);
  failed("plugins.orders", /several orders plugins \(demo-orders, shop-orders\).*plugin_ambiguous/);
  failed("plugins.payments", /names stripe for payments/);
  failed("demo", /NODE_ENV=production/);
  assert.equal(checks.get("keys")?.level, "warn");
});

test("an unreachable Redis fails at once; a configuration that does not load fails; bad arguments print the usage", async () => {
  const down = await doctor({ ...GOOD, REDIS_URL: "redis://127.0.0.1:1" });
  assert.equal(down.code, 2);
  assert.equal(byCheck(findingsOf(down.stdout).findings).get("redis.connect")?.level, "fail");

  const badConfig = await doctor({ ...GOOD, PORT: "eighty" });
  assert.equal(badConfig.code, 2);
  assert.match(byCheck(findingsOf(badConfig.stdout).findings).get("config")?.message ?? "", /PORT/);

  const usage = await doctor(GOOD, ["--frobnicate"]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /Usage: kefu-hub doctor/);
});

test("the text report marks each finding and ends with the counts and the exit code", async () => {
  const { code, stdout } = await doctor({ ...GOOD, KEFU_DELIVERY_ALLOW_CIDRS: "10.20.0.0/16", KEFU_PLUGINS_DIR: pluginsDir([]) }, []);
  assert.equal(code, 1);
  assert.match(stdout, /^WARN {2}delivery\.private-cidrs +webhooks may reach 10\.20\.0\.0\/16$/m);
  assert.match(stdout, /^ +fix: keep only the ranges/m);
  assert.match(stdout, /^pass {2}redis\.version +Redis \d+\./m);
  assert.match(stdout, new RegExp(`— exit ${code}\\n$`));
});
