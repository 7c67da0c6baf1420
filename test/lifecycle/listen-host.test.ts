import assert from "node:assert/strict";
import { networkInterfaces } from "node:os";
import { test } from "node:test";
import { listenHost, listeningMessage } from "../../src/config/listen-host.ts";
import { startHubProcess } from "../helpers/hub-process.ts";

// An address of this machine that is not loopback, to see whether the port is open beyond it.
const outside = Object.values(networkInterfaces())
  .flat()
  .find((entry) => entry?.family === "IPv4" && !entry.internal)?.address;

test("without configured API keys the hub binds to 127.0.0.1; with keys, or with HOST, where it is told", () => {
  assert.equal(listenHost({ configuredHost: undefined, keysConfigured: false }), "127.0.0.1");
  assert.equal(listenHost({ configuredHost: undefined, keysConfigured: true }), "0.0.0.0");
  assert.equal(listenHost({ configuredHost: "0.0.0.0", keysConfigured: false }), "0.0.0.0");
  assert.equal(listenHost({ configuredHost: "::1", keysConfigured: true }), "::1");
});

test("the listening line names the bound address, and a URL this machine can open", () => {
  assert.equal(listeningMessage("127.0.0.1", 8080), "kefu-hub listening on http://127.0.0.1:8080 — Swagger UI at http://127.0.0.1:8080/docs");
  assert.equal(listeningMessage("0.0.0.0", 8080), "kefu-hub listening on 0.0.0.0:8080 (every interface) — Swagger UI at http://127.0.0.1:8080/docs");
  assert.equal(listeningMessage("::1", 8080), "kefu-hub listening on http://[::1]:8080 — Swagger UI at http://[::1]:8080/docs");
});

interface LogLine {
  msg?: string;
  address?: string;
  port?: number;
}

function listeningLine(output: string): LogLine {
  const line = output
    .split("\n")
    .filter((text) => text.startsWith("{"))
    .map((text) => JSON.parse(text) as LogLine)
    .find((entry) => entry.msg?.startsWith("kefu-hub listening on"));
  assert.ok(line, `no listening line in:\n${output}`);
  return line;
}

async function reachable(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2000) })).status === 200;
  } catch {
    return false;
  }
}

test("kefu-hub start with a generated key listens on loopback only and logs that address", { timeout: 30_000 }, async () => {
  const hub = await startHubProcess({ HOST: "", KEFU_API_KEYS: "", KEFU_LOG_LEVEL: "info" }, "listening");
  try {
    const line = listeningLine(await hub.outputMatching(/kefu-hub listening on/));
    assert.equal(line.address, "127.0.0.1");
    assert.match(line.msg ?? "", /^kefu-hub listening on http:\/\/127\.0\.0\.1:\d+ /);
    if (outside) assert.equal(await reachable(`http://${outside}:${line.port}/healthz`), false, `reachable on ${outside}`);
  } finally {
    hub.child.kill("SIGTERM");
    await hub.exited;
  }
});

test("kefu-hub start with configured keys listens on every interface and says so", { timeout: 30_000 }, async () => {
  const hub = await startHubProcess({ HOST: "", KEFU_LOG_LEVEL: "info" }, "listening");
  try {
    const line = listeningLine(await hub.outputMatching(/kefu-hub listening on/));
    assert.equal(line.address, "0.0.0.0");
    assert.match(line.msg ?? "", /^kefu-hub listening on 0\.0\.0\.0:\d+ \(every interface\)/);
    if (outside) assert.equal(await reachable(`http://${outside}:${line.port}/healthz`), true, `not reachable on ${outside}`);
  } finally {
    hub.child.kill("SIGTERM");
    await hub.exited;
  }
});
