import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { parse as parseYaml } from "yaml";
import { dockerfile } from "../helpers/dockerfile.ts";

// No Docker engine runs here: these checks keep the files honest by what can be read.
const root = new URL("../../", import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), "utf8");

test("the Dockerfile is multi-stage on node:24-slim with production dependencies only", () => {
  const from = dockerfile().filter((i) => i.keyword === "FROM");
  assert.ok(from.length >= 2, "multi-stage");
  for (const stage of from) assert.match(stage.args, /^node:24-slim\b/);
  const run = dockerfile().filter((i) => i.keyword === "RUN").map((i) => i.args).join("\n");
  assert.match(run, /npm ci --omit=dev/);
});

test("the image runs as a non-root user with a HEALTHCHECK on /healthz", () => {
  const instructions = dockerfile();
  const users = instructions.filter((i) => i.keyword === "USER");
  assert.ok(users.length > 0);
  assert.notEqual(users.at(-1)?.args, "root");
  const healthcheck = instructions.find((i) => i.keyword === "HEALTHCHECK");
  assert.match(healthcheck?.args ?? "", /\/healthz/);
  assert.equal(instructions.find((i) => i.keyword === "EXPOSE")?.args, "8080");
});

test("everything the image copies from the repository exists", () => {
  for (const copy of dockerfile().filter((i) => i.keyword === "COPY" && !i.args.includes("--from="))) {
    const sources = copy.args.split(/\s+/).filter((arg) => !arg.startsWith("--")).slice(0, -1);
    for (const source of sources) assert.ok(existsSync(new URL(source, root)), `COPY ${source} exists`);
  }
});

test("the image starts the command the README documents", () => {
  const cmd = dockerfile().find((i) => i.keyword === "CMD");
  const command = (JSON.parse(cmd?.args ?? "[]") as string[]).join(" ");
  assert.equal(command, "node dist/kefu-hub.js start");
  assert.ok(read("README.md").includes(command), "README.md documents the image's command");
  assert.ok(existsSync(new URL("scripts/build-dist.ts", root)), "the script that builds dist/ in the deps stage");
});

test("the image runs Node with the same flags as npm start", () => {
  const start = (JSON.parse(read("package.json")) as { scripts: { start: string } }).scripts.start;
  const flags = start.split(" ").filter((word) => word.startsWith("--"));
  const env = dockerfile().filter((i) => i.keyword === "ENV").map((i) => i.args).join(" ");
  const nodeOptions = env.match(/NODE_OPTIONS=(\S+)/)?.[1] ?? "";
  assert.deepEqual(nodeOptions.split(",").join(" ").split(" ").filter(Boolean), flags);
});

test("docker-compose.yml parses and runs Redis 7 with AOF, noeviction and a named volume", () => {
  const compose = parseYaml(read("docker/docker-compose.yml")) as {
    services: Record<string, { image?: string; command?: string[]; volumes?: string[]; build?: { context: string; dockerfile: string }; environment?: Record<string, string>; depends_on?: Record<string, unknown> }>;
    volumes: Record<string, unknown>;
  };
  const redis = compose.services["redis"];
  assert.match(redis?.image ?? "", /^redis:7/);
  const command = (redis?.command ?? []).join(" ");
  assert.match(command, /--appendonly yes/);
  assert.match(command, /--maxmemory-policy noeviction/);
  const volume = (redis?.volumes ?? [])[0]?.split(":")[0] ?? "";
  assert.ok(volume in compose.volumes, "Redis data on a named volume");

  const hub = compose.services["hub"];
  assert.equal(hub?.build?.dockerfile, "docker/Dockerfile");
  assert.ok(existsSync(new URL(`docker/${hub?.build?.context ?? ""}/docker/Dockerfile`, root)));
  assert.equal(hub?.environment?.["REDIS_URL"], "redis://redis:6379");
  assert.ok(hub?.depends_on && "redis" in hub.depends_on);
  assert.ok(compose.services["prometheus"], "Prometheus is part of the stack");
});

test("Prometheus scrapes the hub's /metrics", () => {
  const config = parseYaml(read("docker/prometheus/prometheus.yml")) as { scrape_configs: { metrics_path: string; static_configs: { targets: string[] }[] }[] };
  const job = config.scrape_configs[0];
  assert.equal(job?.metrics_path, "/metrics");
  assert.deepEqual(job?.static_configs[0]?.targets, ["hub:8080"]);
});
