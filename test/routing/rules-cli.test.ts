import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { manufacturerRuleset } from "./fixtures/generate.ts";

const run = promisify(execFile);
const bin = new URL("../../bin/kefu-hub.js", import.meta.url).pathname;
const example = new URL("../../docs/examples/manufacturer-ruleset.json", import.meta.url).pathname;
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "kefu-rules-cli-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Failure = { code: number; stdout: string; stderr: string };

test("kefu-hub rules validate accepts the worked example", async () => {
  const { stdout } = await run(process.execPath, [bin, "rules", "validate", example]);
  assert.match(stdout, /ok — 39 rules, 29 business lines, 0 warning\(s\)/);
});

test("errors are printed with pointer and rule, and exit 1", async () => {
  const bad = manufacturerRuleset();
  (bad.rules[5]?.conditions.all?.[1] as { operator: string }).operator = "notInside";
  const file = join(dir, "bad.json");
  await writeFile(file, JSON.stringify(bad));
  await assert.rejects(run(process.execPath, [bin, "rules", "validate", file]), (error: Failure) => {
    assert.equal(error.code, 1);
    assert.match(error.stderr, /error +\/rules\/5\/conditions\/all\/1\/operator {2}rule "delivery": unknown operator "notInside"/);
    return true;
  });
});

test("warnings pass unless --strict; usage errors exit 2", async () => {
  const shadowed = manufacturerRuleset();
  shadowed.rules.push({ name: "pumps-again", priority: 1, conditions: { all: [{ fact: "productLine", operator: "equal", value: "pumps" }] }, event: { type: "route", params: { businessLine: "pumps" } } });
  const file = join(dir, "shadowed.json");
  await writeFile(file, JSON.stringify(shadowed));
  const { stdout, stderr } = await run(process.execPath, [bin, "rules", "validate", file]);
  assert.match(stdout, /1 warning/);
  assert.match(stderr, /warning +\/rules\/39 {2}rule "pumps-again" can never decide: rule "pumps"/);
  await assert.rejects(run(process.execPath, [bin, "rules", "validate", file, "--strict"]), (error: Failure) => error.code === 1);
  await assert.rejects(run(process.execPath, [bin, "rules", "check", file]), (error: Failure) => error.code === 2 && /Usage: kefu-hub rules validate/.test(error.stderr));
  await assert.rejects(run(process.execPath, [bin, "rules", "validate", join(dir, "missing.json")]), (error: Failure) => error.code === 1 && /cannot read/.test(error.stderr));
});
