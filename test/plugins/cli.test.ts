import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, test } from "node:test";

const ROOT = resolve(import.meta.dirname, "../..");
const NODE = join(ROOT, "node_modules/.bin/node");
const workDir = mkdtempSync(join(tmpdir(), "kefu-cli-"));
after(() => rmSync(workDir, { recursive: true, force: true }));

/** Runs the kefu-hub CLI as an integrator would, from their own folder. */
function kefuHub(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(NODE, [join(ROOT, "src/cli/main.ts"), ...args], { cwd: workDir, env: { ...process.env, KEFU_PLUGINS_DIR: "" } }, (error, stdout, stderr) => {
      done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

test("plugin new scaffolds a folder whose recorded cases pass in the real sandbox", async () => {
  const created = await kefuHub("plugin", "new", "acme-orders", "--kind", "orders", "--dir", "my-plugins");
  assert.equal(created.code, 0, created.stderr);
  const folder = join(workDir, "my-plugins", "acme-orders");
  const manifest = JSON.parse(readFileSync(join(folder, "plugin.json"), "utf8")) as { kind: string; entry: string };
  assert.deepEqual([manifest.kind, manifest.entry], ["orders", "index.ts"]);
  assert.match(readFileSync(join(folder, "index.ts"), "utf8"), /export async function getOrder/);

  const tested = await kefuHub("plugin", "test", folder);
  assert.equal(tested.code, 0, tested.stdout + tested.stderr);
  assert.match(tested.stdout, /✔ an existing record/);
  assert.match(tested.stdout, /3 passed, 0 failed/);
});

test("plugin test prints what differs and exits 1 when a case fails", async () => {
  const folder = join(workDir, "my-plugins", "acme-orders");
  const casesFile = join(folder, "cases.json");
  const cases = JSON.parse(readFileSync(casesFile, "utf8")) as { cases: { expect?: { status?: string } }[] };
  const first = cases.cases[0];
  if (first?.expect) first.expect.status = "cancelled";
  writeFileSync(join(workDir, "wrong-cases.json"), JSON.stringify(cases));
  // An entry that returns what the schema forbids fails with the ajv errors.
  writeFileSync(join(folder, "index.ts"), readFileSync(join(folder, "index.ts"), "utf8").replace("return response.json<Order>();", "return { ...(await response.json<Order>()), amount: -1 };"));
  const tested = await kefuHub("plugin", "test", folder, "--cases", join(workDir, "wrong-cases.json"));
  assert.equal(tested.code, 1, tested.stdout + tested.stderr);
  assert.match(tested.stdout, /✖ an existing record\n.*expected a result, got plugin_output_invalid/);
  assert.match(tested.stdout, /\/amount must be >= 0/);
  assert.match(tested.stdout, /1 passed, 2 failed|2 passed, 1 failed/);
});

test("plugin new refuses a bad kind or name with exit 2", async () => {
  const badKind = await kefuHub("plugin", "new", "acme-weather", "--kind", "weather");
  assert.equal(badKind.code, 2);
  assert.match(badKind.stderr, /--kind must be one of orders, payments, logistics, crm, transform/);
  const badName = await kefuHub("plugin", "new", "Acme", "--kind", "crm");
  assert.equal(badName.code, 2);
  assert.match(badName.stderr, /not a valid plugin name/);
});

test("the hint plugin new prints is a command that runs as printed, from the project folder", async () => {
  const created = await kefuHub("plugin", "new", "hint-orders", "--kind", "orders", "--dir", "hint-plugins");
  assert.equal(created.code, 0, created.stderr);
  const hint = /then run\s+(.+)$/m.exec(created.stdout)?.[1] ?? "";
  assert.ok(hint.startsWith("npx kefu-hub plugin test "), `hint: ${hint}`);
  const ran = await new Promise<{ code: number; stdout: string }>((done) => {
    execFile("sh", ["-c", hint], { cwd: ROOT }, (error, stdout) => done({ code: error ? Number(error.code ?? 1) : 0, stdout }));
  });
  assert.equal(ran.code, 0, ran.stdout);
  assert.match(ran.stdout, /3 passed, 0 failed/);
});
