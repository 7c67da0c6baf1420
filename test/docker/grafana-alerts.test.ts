import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { Redis } from "ioredis";
import { startTestHub, TEST_REDIS_URL, type TestHub } from "../helpers/test-hub.ts";

// The dashboard and the alert rules name metrics by string: nothing else would notice a metric
// renamed in src/ (or a typo here) until a panel is empty in production, or an alert never fires.
const root = new URL("../../", import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), "utf8");

interface Rule {
  alert?: string;
  expr?: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

function alertRules(): Rule[] {
  const file = parseYaml(read("docker/prometheus/alerts.yml")) as { groups: { name: string; rules: Rule[] }[] };
  return file.groups.flatMap((group) => group.rules);
}

/** Every `expr` of every dashboard in docker/grafana/dashboards/, with the panel it belongs to. */
function dashboardExpressions(): { panel: string; expr: string }[] {
  const found: { panel: string; expr: string }[] = [];
  const visit = (node: unknown, panel: string): void => {
    if (Array.isArray(node)) for (const item of node) visit(item, panel);
    else if (node && typeof node === "object") {
      const record = node as Record<string, unknown>;
      const title = typeof record["title"] === "string" ? record["title"] : panel;
      if (typeof record["expr"] === "string") found.push({ panel: title, expr: record["expr"] });
      for (const value of Object.values(record)) visit(value, title);
    }
  };
  for (const name of readdirSync(new URL("docker/grafana/dashboards/", root)).filter((file) => file.endsWith(".json"))) {
    visit(JSON.parse(read(`docker/grafana/dashboards/${name}`)), name);
  }
  return found;
}

const KEYWORDS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "inf", "nan"]);

/**
 * The metric names a PromQL expression selects. Strings, label matchers, ranges, grouping lists,
 * Grafana variables and function calls are removed first; what is left that looks like a name is
 * a metric. A false positive here fails the test (it is not exported), so the parse errs safe.
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\$\{?\w+\}?/g, " ");
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w.])([a-zA-Z_:][\w:]*)\s*(\()?/g)) {
    const [, name = "", call] = match;
    if (call || KEYWORDS.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names];
}

/** The names /metrics answers for: each `# TYPE`, with the series suffixes of its type. */
function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const [, name = "", type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name);
    if (type === "histogram") for (const suffix of ["_bucket", "_count", "_sum"]) names.add(name + suffix);
    if (type === "summary") for (const suffix of ["_count", "_sum"]) names.add(name + suffix);
  }
  return names;
}

/** Series Prometheus makes itself for each target, not the hub. */
const PROMETHEUS_OWN = new Set(["up", "scrape_duration_seconds", "scrape_samples_scraped"]);

let hub: TestHub;
let exported: Set<string>;

before(async () => {
  hub = await startTestHub();
  // A little traffic, so that labelled series exist as well as their # TYPE lines.
  assert.equal((await hub.request("/readyz", { scope: "none" })).status, 200);
  assert.equal((await hub.request("/v1/whoami")).status, 200);
  const event = { id: `grafana-${hub.prefix}`, type: "ticket.created", occurredAt: new Date().toISOString(), source: "test", priority: "normal", data: { ticketId: "T-1", subject: "Refund", customer: { id: "C-1" } } };
  assert.equal((await hub.request("/v1/events", { method: "POST", scope: "ingest", json: event })).status, 202);
  const metrics = await hub.request("/metrics", { scope: "none" });
  assert.equal(metrics.status, 200);
  const text = await metrics.text();
  exported = exportedNames(text);
  assert.match(text, /^kefu_ready 1$/m, "a ready hub says so");
  // The policy the gauge names is the one Redis runs with (read, never set: the Redis is shared).
  const redis = new Redis(TEST_REDIS_URL);
  const [, policy] = await redis.config("GET", "maxmemory-policy").finally(() => redis.disconnect());
  assert.match(text, new RegExp(`^kefu_redis_maxmemory_policy\\{policy="${policy ?? "?"}"\\} 1$`, "m"), "the Redis policy is read at start");
});

after(async () => {
  await hub.close();
});

test("the PromQL name parse finds metrics and nothing else", () => {
  assert.deepEqual(
    metricNames('histogram_quantile(0.99, sum by (job, le) (rate(kefu_delivery_latency_seconds_bucket{outcome="a b",x=~"$instance"}[5m]))) > 0.02 and on (instance) up == 0'),
    ["kefu_delivery_latency_seconds_bucket", "up"],
  );
});

test("every metric the dashboard names is one the hub exports", () => {
  const expressions = dashboardExpressions();
  assert.ok(expressions.length >= 15, "the dashboard has its panels");
  const missing = expressions.flatMap(({ panel, expr }) => metricNames(expr).filter((name) => !exported.has(name)).map((name) => `${name} (panel "${panel}")`));
  assert.deepEqual(missing, []);
  const named = new Set(expressions.flatMap(({ expr }) => metricNames(expr)));
  for (const family of ["http_request_duration_seconds_bucket", "kefu_delivery_latency_seconds_bucket", "kefu_deliveries_total", "kefu_queue_jobs", "kefu_breaker_state", "kefu_plugin_call_duration_seconds_bucket", "kefu_sessions_open", "kefu_live_connections", "process_resident_memory_bytes"]) {
    assert.ok(named.has(family), `the dashboard shows ${family}`);
  }
});

test("every metric the alert rules name is one the hub exports (or Prometheus's own)", () => {
  const missing = alertRules().flatMap((rule) => metricNames(rule.expr ?? "").filter((name) => !exported.has(name) && !PROMETHEUS_OWN.has(name)).map((name) => `${name} (${rule.alert ?? "?"})`));
  assert.deepEqual(missing, []);
});

test("the alert rules cover what issue 15 asks, each with a severity and a summary", () => {
  const rules = alertRules();
  const byName = new Map(rules.map((rule) => [rule.alert ?? "", rule]));
  for (const [alert, metric] of [
    ["KefuDeliveryP99OverTarget", "kefu_delivery_latency_seconds_bucket"],
    ["KefuDeadLettersGrowing", "kefu_deliveries_total"],
    ["KefuBreakerOpen", "kefu_breaker_state"],
    ["KefuRedisMayEvict", "kefu_redis_maxmemory_policy"],
    ["KefuNotReady", "kefu_ready"],
  ] as const) {
    const rule = byName.get(alert);
    assert.ok(rule, `${alert} exists`);
    assert.ok(metricNames(rule.expr ?? "").includes(metric), `${alert} reads ${metric}`);
  }
  assert.equal(byName.get("KefuBreakerOpen")?.for, "5m", "breaker open for more than 5 minutes");
  for (const rule of rules) {
    assert.match(rule.labels?.["severity"] ?? "", /^(warning|critical)$/, `${rule.alert ?? "?"} severity`);
    assert.ok(rule.annotations?.["summary"], `${rule.alert ?? "?"} summary`);
    const expr = rule.expr ?? "";
    assert.equal(expr.split("(").length, expr.split(")").length, `${rule.alert ?? "?"}: balanced parentheses`);
  }
});

// CI installs Debian's prometheus package for promtool (.ci/run); elsewhere the checks above remain.
const promtool = spawnSync("promtool", ["--version"]).status === 0;

test("promtool accepts the rules and the Prometheus config that loads them", { skip: promtool ? false : "promtool not installed (Debian package prometheus)" }, () => {
  const dir = fileURLToPath(new URL("docker/prometheus/", root));
  execFileSync("promtool", ["check", "rules", "alerts.yml"], { cwd: dir, stdio: "pipe" });
  const config = execFileSync("promtool", ["check", "config", "prometheus.yml"], { cwd: dir, stdio: "pipe" }).toString();
  assert.match(config, /1 rule files found/);
});

test("docker-compose runs Grafana with the provisioning and the dashboards mounted", () => {
  const compose = parseYaml(read("docker/docker-compose.yml")) as { services: Record<string, { image?: string; volumes?: string[] }> };
  const grafana = compose.services["grafana"];
  assert.match(grafana?.image ?? "", /^grafana\/grafana:/);
  const volumes = grafana?.volumes ?? [];
  assert.ok(volumes.includes("./grafana/provisioning:/etc/grafana/provisioning:ro"));
  assert.ok(volumes.includes("./grafana/dashboards:/var/lib/grafana/dashboards:ro"));
  assert.ok((compose.services["prometheus"]?.volumes ?? []).includes("./prometheus:/etc/prometheus:ro"));
  const provider = parseYaml(read("docker/grafana/provisioning/dashboards/kefu-hub.yml")) as { providers: { options: { path: string } }[] };
  assert.equal(provider.providers[0]?.options.path, "/var/lib/grafana/dashboards");
  const datasource = parseYaml(read("docker/grafana/provisioning/datasources/prometheus.yml")) as { datasources: { uid: string; url: string }[] };
  assert.equal(datasource.datasources[0]?.url, "http://prometheus:9090");
  assert.equal(datasource.datasources[0]?.uid, "prometheus");
});
