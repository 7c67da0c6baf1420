import type { HubConfig } from "../config/config.ts";
import { loadConfig } from "../config/load-config.ts";
import { hubPaths } from "../paths.ts";
import { createSchemaRegistry } from "../schemas/schema-registry.ts";
import { checkConfig } from "./doctor/config-checks.ts";
import { DOCTOR_EXIT, exitCodeOf, fail, type Finding } from "./doctor/finding.ts";
import { checkPlugins } from "./doctor/plugin-checks.ts";
import { checkRedis } from "./doctor/redis-checks.ts";
import type { Output } from "./rules-command.ts";

export const DOCTOR_USAGE = `Usage: kefu-hub doctor [--json]

Checks a deployment with the configuration \`kefu-hub start\` would use (environment and
KEFU_CONFIG): Redis (reachable, version, AOF, noeviction, not a Cluster, clock against Redis
TIME), API keys, the bind address, KEFU_DELIVERY_ALLOW_CIDRS, plugin bindings per kind, and the
demo plugins left on (a failure with NODE_ENV=production). Prints what to fix.
Exit code: 0 every check passed, 1 a warning, 2 a failure (or the configuration does not load).
`;

/** `kefu-hub doctor`; returns the exit code (see {@link DOCTOR_EXIT}). */
export async function runDoctorCommand(args: readonly string[], env: Readonly<Record<string, string | undefined>>, out: Output, err: Output): Promise<number> {
  const json = args.includes("--json");
  if (args.some((arg) => arg !== "--json")) {
    err.write(DOCTOR_USAGE);
    return DOCTOR_EXIT.fail;
  }
  let config: HubConfig;
  try {
    config = loadConfig({ env, schemas: createSchemaRegistry(hubPaths().schemas) });
  } catch (error) {
    const findings = [fail("config", `the configuration does not load: ${(error as Error).message}`, "fix the setting named above (docs/configuration.md)")];
    write(findings, json, out);
    return exitCodeOf(findings);
  }
  // Unset REDIS_URL: `kefu-hub start` uses 127.0.0.1:6379 when it answers (else a private
  // redis-server, which a deployment should not rely on), so that is what is checked.
  const redisUrl = config.redisUrl ?? "redis://127.0.0.1:6379";
  const findings = [...(await checkRedis({ url: redisUrl })), ...checkConfig(config), ...checkPlugins(config, env)];
  write(findings, json, out);
  return exitCodeOf(findings);
}

const MARK = { pass: "pass", warn: "WARN", fail: "FAIL" } as const;

function write(findings: readonly Finding[], json: boolean, out: Output): void {
  const code = exitCodeOf(findings);
  if (json) {
    out.write(`${JSON.stringify({ exitCode: code, findings }, null, 2)}\n`);
    return;
  }
  const width = Math.max(...findings.map((finding) => finding.check.length));
  for (const finding of findings) {
    out.write(`${MARK[finding.level]}  ${finding.check.padEnd(width)}  ${finding.message}\n`);
    if (finding.fix) out.write(`      ${" ".repeat(width)}  fix: ${finding.fix}\n`);
  }
  const count = (level: Finding["level"]): number => findings.filter((finding) => finding.level === level).length;
  out.write(`\n${count("fail")} failed, ${count("warn")} warned, ${count("pass")} passed — exit ${code}\n`);
}
