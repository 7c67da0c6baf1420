import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { ENV_BINDINGS } from "../../src/config/env-map.ts";
import { ConfigError, loadConfig } from "../../src/config/load-config.ts";
import { hubPaths } from "../../src/paths.ts";
import { createSchemaRegistry } from "../../src/schemas/schema-registry.ts";

const schemas = createSchemaRegistry(hubPaths().schemas);
const load = (env: Record<string, string>) => loadConfig({ env, schemas });

function configError(env: Record<string, string>): string {
  try {
    load(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.message;
  }
  assert.fail("expected a ConfigError");
}

test("defaults come from the schema", () => {
  const config = load({});
  assert.equal(config.port, 8080);
  assert.equal(config.redisPrefix, "kefu");
  assert.equal(config.pluginsDir, "plugins");
  assert.equal(config.bodyLimit, "1mb");
  assert.equal(config.shutdownGraceMs, 10000);
  assert.deepEqual(config.apiKeys, []);
  assert.equal(config.redisUrl, undefined);
});

test("the file overrides defaults and the environment overrides the file", () => {
  const dir = mkdtempSync(join(tmpdir(), "kefu-config-"));
  const file = join(dir, "kefu.json");
  writeFileSync(file, JSON.stringify({ port: 9000, redisPrefix: "from-file", logLevel: "debug" }));
  const config = load({ KEFU_CONFIG: file, KEFU_REDIS_PREFIX: "from-env" });
  assert.equal(config.port, 9000);
  assert.equal(config.logLevel, "debug");
  assert.equal(config.redisPrefix, "from-env");
});

test("KEFU_API_KEYS parses KEY=SCOPE+SCOPE lists", () => {
  const config = load({ KEFU_API_KEYS: "s3cret-admin=admin, k2-ingest-read=ingest+read" });
  assert.deepEqual(config.apiKeys, [
    { key: "s3cret-admin", scopes: ["admin"] },
    { key: "k2-ingest-read", scopes: ["ingest", "read"] },
  ]);
});

test("a bad value names the variable, the value and what is allowed", () => {
  assert.match(configError({ PORT: "70000" }), /PORT="70000".*must be <= 65535/);
  assert.match(configError({ PORT: "eighty" }), /PORT="eighty".*must be integer/);
  assert.match(configError({ KEFU_LOG_LEVEL: "loud" }), /KEFU_LOG_LEVEL="loud".*must be one of "fatal", "error"/);
  assert.match(configError({ KEFU_BODY_LIMIT: "lots" }), /KEFU_BODY_LIMIT="lots".*must match pattern/);
  assert.match(configError({ REDIS_URL: "localhost:6379" }), /REDIS_URL="localhost:6379"/);
  assert.match(configError({ KEFU_API_KEYS: "short=admin" }), /KEFU_API_KEYS=.*\/apiKeys\/0\/key.*must NOT have fewer than 8 characters/);
  assert.match(configError({ KEFU_API_KEYS: "long-enough-key=root" }), /KEFU_API_KEYS=.*\/apiKeys\/0\/scopes\/0.*must be one of "admin", "ingest", "read"/);
  assert.match(configError({ KEFU_API_KEYS: "long-enough-key" }), /\/apiKeys\/0\/scopes.*must NOT have fewer than 1 items/);
});

test("a bad file names the file and the key", () => {
  const dir = mkdtempSync(join(tmpdir(), "kefu-config-"));
  const file = join(dir, "kefu.json");
  writeFileSync(file, JSON.stringify({ port: -1, colour: "blue" }));
  const message = configError({ KEFU_CONFIG: file });
  assert.match(message, new RegExp(`${file}: key /port=-1 must be >= 0`));
  assert.match(message, /key \/colour="blue" is not an allowed property/);
  writeFileSync(file, "{ not json");
  assert.match(configError({ KEFU_CONFIG: file }), /not valid JSON/);
  assert.match(configError({ KEFU_CONFIG: join(dir, "missing.json") }), /cannot read the file/);
});

test("docs/configuration.md documents every variable and every key with its default", () => {
  const docs = readFileSync(new URL("../../docs/configuration.md", import.meta.url), "utf8");
  const rows = new Map([...docs.matchAll(/^\| `(\w+)` \| `(\w+)` \| ([^|]+) \|/gm)].map((m) => [m[1], { key: m[2], defaultText: m[3]?.trim() }]));
  const schema = schemas.schemas().get("https://kefu-hub.dev/schemas/config.schema.json") as {
    properties: Record<string, { default?: unknown }>;
  };
  for (const [name, binding] of Object.entries(ENV_BINDINGS)) {
    const row = rows.get(name);
    assert.ok(row, `${name} is missing from docs/configuration.md`);
    assert.equal(row.key, binding.key, name);
    const defaultValue = schema.properties[binding.key]?.default;
    if (typeof defaultValue === "string" || typeof defaultValue === "number") {
      assert.ok(row.defaultText?.includes(String(defaultValue)), `${name}: documented default should show ${String(defaultValue)}`);
    }
  }
  const boundKeys = new Set(Object.values(ENV_BINDINGS).map((b) => b.key));
  for (const key of Object.keys(schema.properties)) assert.ok(boundKeys.has(key as never), `config key ${key} has no environment variable`);
});

test("kefu-hub start with a bad value exits 1 and says why", async () => {
  const run = promisify(execFile);
  const bin = new URL("../../bin/kefu-hub.js", import.meta.url).pathname;
  await assert.rejects(run(process.execPath, [bin, "start"], { env: { ...process.env, PORT: "70000" } }), (error: { code: number; stderr: string }) => {
    assert.equal(error.code, 1);
    assert.match(error.stderr, /PORT="70000".*must be <= 65535/);
    assert.match(error.stderr, /docs\/configuration.md/);
    return true;
  });
});
