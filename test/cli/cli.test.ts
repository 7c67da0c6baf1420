import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import { promisify } from "node:util";
import { startHubProcess } from "../helpers/hub-process.ts";
import { deleteKeys } from "../helpers/test-hub.ts";

const run = promisify(execFile);
const bin = new URL("../../bin/kefu-hub.js", import.meta.url).pathname;

test("kefu-hub --help lists the commands", async () => {
  const { stdout } = await run(process.execPath, [bin, "--help"]);
  assert.match(stdout, /kefu-hub start/);
});

test("an unknown command exits 2 with the help", async () => {
  await assert.rejects(run(process.execPath, [bin, "frobnicate"]), (error: { code: number; stderr: string }) => {
    assert.equal(error.code, 2);
    assert.match(error.stderr, /unknown command "frobnicate"/);
    return true;
  });
});

test("start without API keys prints a generated admin key once, and it works", { timeout: 30_000 }, async () => {
  const prefix = `test-${randomUUID().slice(0, 8)}`;
  const hub = await startHubProcess({ KEFU_REDIS_PREFIX: prefix, KEFU_API_KEYS: "" });
  try {
    const keys = (await hub.outputMatching(/KEFU_API_KEYS/)).match(/kefu_[A-Za-z0-9_-]{32}/g) ?? [];
    assert.equal(new Set(keys).size, 1, "one key, printed once");
    const response = await fetch(`${hub.url}/v1/whoami`, { headers: { authorization: `Bearer ${keys[0]}` } });
    assert.equal(response.status, 200);
    assert.deepEqual(((await response.json()) as { scopes: string[] }).scopes, ["admin", "ingest", "read"]);
    assert.match(hub.output(), /KEFU_API_KEYS/);
  } finally {
    hub.child.kill("SIGTERM");
    await hub.exited;
    await deleteKeys(prefix);
  }
});
