import { isDeepStrictEqual } from "node:util";
import { readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { pino } from "pino";
import { Registry } from "prom-client";
import { isHubError } from "../http/errors.ts";
import { PluginHost } from "../plugins/plugin-host.ts";
import type { FakeRoute } from "../plugins/runner/protocol.ts";
import { createSchemaRegistry } from "../schemas/schema-registry.ts";

/** cases.json of a plugin folder. */
export interface CaseFile {
  /** The plugin's config for the run (validated against its schema, as in the hub). */
  config?: Record<string, unknown>;
  secrets?: Record<string, string>;
  cases: TestCase[];
}

export interface TestCase {
  name: string;
  method: string;
  input: unknown;
  /** What the fake upstream answers; a fetch of anything else fails the call. */
  upstream?: FakeRoute[];
  /** The expected (validated) result; null for "no such record". */
  expect?: unknown;
  /** Or the expected failure: its code and a part of its message. */
  expectError?: { code: string; message?: string };
}

export interface PluginTestOptions {
  pluginDir: string;
  casesFile?: string;
  hubRoot: string;
  out: NodeJS.WritableStream;
  /** Show the plugin's kefu.log lines. */
  verbose?: boolean;
}

/** `kefu-hub plugin test <dir>`: loads the plugin in the real sandbox and runs the recorded cases. Answers the exit code. */
export async function testPlugin({ pluginDir, casesFile, hubRoot, out, verbose = false }: PluginTestOptions): Promise<number> {
  const dir = resolve(pluginDir);
  const name = basename(dir);
  const file = resolve(casesFile ?? join(dir, "cases.json"));
  let caseFile: CaseFile;
  try {
    caseFile = JSON.parse(readFileSync(file, "utf8")) as CaseFile;
    if (!Array.isArray(caseFile.cases)) throw new Error("it needs a `cases` array");
  } catch (error) {
    out.write(`✖ cannot read the cases in ${file}: ${(error as Error).message}\n`);
    return 1;
  }
  const logger = pino({ level: verbose ? "debug" : "warn", base: { plugin: name } }, pino.destination(2));
  const host = new PluginHost({
    dir: dirname(dir),
    only: [name],
    schemas: createSchemaRegistry(join(hubRoot, "schemas")),
    logger,
    registry: new Registry(),
    settings: { [name]: { config: caseFile.config ?? {}, secrets: caseFile.secrets ?? {} } },
    runner: { cache: { kind: "memory" }, logLevel: verbose ? "debug" : "warn" },
    env: {},
  });
  try {
    await host.start();
    const info = host.list().find((plugin) => plugin.name === name);
    if (info?.state !== "ready") {
      out.write(`✖ ${name} did not load: ${info?.lastError?.message ?? "no plugin.json in that folder"}\n`);
      return 1;
    }
    out.write(`${name} ${info.version} (${info.kind}) — ${caseFile.cases.length} case(s) from ${file}\n`);
    let failed = 0;
    for (const testCase of caseFile.cases) {
      const problem = await runCase(host, name, testCase);
      if (problem) failed++;
      out.write(problem ? `  ✖ ${testCase.name}\n${indent(problem)}\n` : `  ✔ ${testCase.name}\n`);
    }
    out.write(`${caseFile.cases.length - failed} passed, ${failed} failed\n`);
    return failed === 0 ? 0 : 1;
  } finally {
    await host.close();
  }
}

/** Runs one case; answers what went wrong, or undefined. */
async function runCase(host: PluginHost, name: string, testCase: TestCase): Promise<string | undefined> {
  await host.setFakeUpstream(name, testCase.upstream ?? []);
  let result: unknown;
  try {
    result = await host.invoke(name, testCase.method, testCase.input);
  } catch (error) {
    const code = isHubError(error) ? error.code : "internal";
    const message = (error as Error).message;
    const expected = testCase.expectError;
    if (!expected) return `expected a result, got ${code}: ${message}${describeErrors(error)}`;
    if (expected.code !== code) return `expected ${expected.code}, got ${code}: ${message}`;
    if (expected.message && !message.includes(expected.message)) return `expected the message to contain "${expected.message}", got: ${message}`;
    return undefined;
  }
  if (testCase.expectError) return `expected ${testCase.expectError.code}, got the result ${JSON.stringify(result)}`;
  if (!isDeepStrictEqual(result, testCase.expect ?? null)) {
    return `expected: ${JSON.stringify(testCase.expect ?? null)}\nactual:   ${JSON.stringify(result)}`;
  }
  return undefined;
}

function describeErrors(error: unknown): string {
  const errors = isHubError(error) ? error.options.errors : undefined;
  return errors?.length ? `\n${errors.map((e) => `  ${e.pointer || "/"} ${e.message}`).join("\n")}` : "";
}

function indent(text: string): string {
  return text.split("\n").map((line) => `      ${line}`).join("\n");
}
