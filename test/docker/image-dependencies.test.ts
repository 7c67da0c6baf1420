import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, delimiter, dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { deleteKeysAt } from "../helpers/delete-keys.ts";
import { cmdOf, contextCopies, envOf, REPOSITORY_ROOT, stages, type Instruction } from "../helpers/dockerfile.ts";
import { freePort } from "../helpers/hub-process.ts";
import { eventually, TEST_REDIS_URL } from "../helpers/test-hub.ts";

// No Docker engine runs here, so the image's dependency set is proven the nearest way: the files
// the Dockerfile copies, `npm ci --omit=dev` as its deps stage runs it, and the image's CMD and ENV,
// all read from docker/Dockerfile so that they cannot drift. A package imported at run time but
// listed under devDependencies fails here, not in production.
const run = promisify(execFile);
const root = fileURLToPath(REPOSITORY_ROOT);

/** Copies a stage's `COPY` from the build context into `workdir`, as Docker would into WORKDIR. */
function copyInto(stage: readonly Instruction[], workdir: string): void {
  for (const { sources, destination } of contextCopies(stage)) {
    for (const source of sources) {
      const target = destination.endsWith("/") ? join(workdir, destination, basename(source)) : join(workdir, destination);
      cpSync(join(root, source), target, { recursive: true });
    }
  }
}

/** The deps stage's `npm ci …` (without what follows `&&`, e.g. `npm cache clean --force`, which here would empty the developer's cache). */
function npmCiArgs(stage: readonly Instruction[]): string[] {
  const runs = stage.filter((i) => i.keyword === "RUN").flatMap((i) => i.args.split("&&").map((part) => part.trim()));
  const ci = runs.find((part) => part.startsWith("npm ci"));
  assert.ok(ci, "a stage runs npm ci");
  const args = ci.split(/\s+/).slice(1);
  assert.ok(args.includes("--omit=dev"), "production dependencies only");
  return args;
}

/** The deps stage's `RUN node …` steps: what it builds once the packages are installed. */
function buildSteps(stage: readonly Instruction[]): string[] {
  return stage.filter((i) => i.keyword === "RUN").flatMap((i) => i.args.split("&&").map((part) => part.trim())).filter((part) => part.startsWith("node "));
}

test("npm ci --omit=dev into a copy of what the image holds starts with the image's CMD and ENV, and is ready", { timeout: 90_000 }, async () => {
  assert.equal(process.versions.node.split(".")[0], "24", "the project's Node 24 runs this test (and so the hub)");
  const all = stages();
  const image = all.at(-1) ?? [];
  const deps = all.find((stage) => stage.some((i) => i.keyword === "RUN" && i.args.includes("npm ci"))) ?? [];
  const workdir = mkdtempSync(join(tmpdir(), "kefu-image-"));
  const prefix = `test-image-${process.pid}`;
  const nodeDir = dirname(process.execPath);
  let child: ReturnType<typeof spawn> | undefined;
  let output = "";
  try {
    copyInto(deps, workdir);
    // --prefer-offline: the npm cache (filled by the checkout's own npm ci) answers, not the registry.
    await run("npm", [...npmCiArgs(deps), "--prefer-offline"], {
      cwd: workdir,
      env: { ...process.env, PATH: `${nodeDir}${delimiter}${process.env["PATH"] ?? ""}` },
      timeout: 60_000,
    });
    // The deps stage's other steps (the bundle under dist/), as its RUNs list them.
    for (const step of buildSteps(deps)) {
      const [command = "", ...args] = step.split(/\s+/);
      await run(command === "node" ? process.execPath : command, args, { cwd: workdir, timeout: 60_000 });
    }
    assert.ok(existsSync(join(workdir, "dist", "kefu-hub.js")), "the deps stage builds dist/kefu-hub.js");
    // (Not typescript: valibot, under @bull-board/api, declares it an optional peer.)
    for (const dev of ["eslint", "madge", "autocannon"]) assert.ok(!existsSync(join(workdir, "node_modules", dev)), `devDependency ${dev} not installed`);
    copyInto(image, workdir);

    const env = envOf(image);
    assert.equal(env["NODE_ENV"], "production");
    const [command = "", ...args] = cmdOf(image);
    assert.equal(command, "node");
    const [port, demoPort] = [await freePort(), await freePort()];
    child = spawn(process.execPath, args, {
      cwd: workdir,
      // A container's environment: the image's ENV and what a deployment adds (compose sets
      // REDIS_URL and KEFU_API_KEYS), nothing inherited from this shell. The ports are free ones
      // instead of 8080 and 4010, and HOST keeps it off other interfaces.
      env: {
        PATH: `${nodeDir}${delimiter}/usr/local/bin${delimiter}/usr/bin${delimiter}/bin`,
        ...env,
        PORT: String(port),
        HOST: "127.0.0.1",
        REDIS_URL: TEST_REDIS_URL,
        KEFU_REDIS_PREFIX: prefix,
        KEFU_API_KEYS: "test-image-admin-key-000001=admin",
        KEFU_DEMO_BUSINESS_SYSTEM_PORT: String(demoPort),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const url = `http://127.0.0.1:${port}`;
    const started = child;
    // A hub that exits (a missing package does, at import) ends the wait at once.
    const state = await eventually(
      async () => (started.exitCode !== null ? "exited" : (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200 && "ready"),
      30_000,
      "/readyz 200 from the production install",
    );
    assert.equal(state, "ready", `the hub exited (${String(started.exitCode)}):\n${output}`);
    // Pages whose modules load on first use, beyond what start imports.
    for (const path of ["/docs/", "/openapi.json", "/metrics", "/admin"]) {
      assert.equal((await fetch(url + path)).status, 200, `${path}\n${output}`);
    }
  } finally {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child?.once("exit", resolve));
      child.kill("SIGTERM");
      const killer = setTimeout(() => child?.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(workdir, { recursive: true, force: true });
    await deleteKeysAt(TEST_REDIS_URL, prefix);
  }
});
