import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { HubConfig } from "../../config/config.ts";
import { fail, pass, warn, type Finding } from "./finding.ts";

const KINDS = ["orders", "payments", "logistics", "crm", "transform"] as const;

interface Found {
  name: string;
  kind: string | undefined;
}

/**
 * Which plugin would serve each kind, read from the manifests without loading anything: a kind
 * with several plugins and no KEFU_PLUGIN_KINDS choice fails every call (`plugin_ambiguous`), as
 * does a choice that names no plugin of the kind. Also the demo plugins left on in production.
 */
export function checkPlugins(config: HubConfig, env: Readonly<Record<string, string | undefined>>): Finding[] {
  const dir = resolve(config.pluginsDir);
  if (!existsSync(dir)) return [warn("plugins", `the plugins folder ${dir} does not exist: no plugin is loaded, order context answers with every part degraded`, "set KEFU_PLUGINS_DIR to the folder holding your plugins")];
  const plugins = discover(dir, config);
  const findings: Finding[] = [];
  for (const kind of KINDS) {
    const candidates = plugins.filter((plugin) => plugin.kind === kind).map((plugin) => plugin.name);
    const chosen = config.pluginKinds[kind];
    if (chosen !== undefined) {
      findings.push(candidates.includes(chosen)
        ? pass(`plugins.${kind}`, `${kind}: ${chosen} (KEFU_PLUGIN_KINDS)`)
        : fail(`plugins.${kind}`, `KEFU_PLUGIN_KINDS names ${chosen} for ${kind}, but the ${kind} plugins in ${dir} are: ${candidates.join(", ") || "none"}`, `set KEFU_PLUGIN_KINDS=${kind}=<one of them>, or add the ${chosen} folder`));
    } else if (candidates.length > 1) {
      findings.push(fail(`plugins.${kind}`, `several ${kind} plugins (${candidates.join(", ")}) and KEFU_PLUGIN_KINDS names none: ${kind} calls fail with plugin_ambiguous`, `set KEFU_PLUGIN_KINDS=${kind}=<one of them>, or disable the others (plugins.<name>.enabled false)`));
    } else if (candidates.length === 1) {
      findings.push(pass(`plugins.${kind}`, `${kind}: ${candidates[0]}`));
    }
  }
  const broken = plugins.filter((plugin) => plugin.kind === undefined).map((plugin) => plugin.name);
  if (broken.length > 0) findings.push(fail("plugins.manifests", `plugin.json unreadable or without a kind: ${broken.join(", ")}`, "run `kefu-hub plugin test <folder>` for each to see why"));
  findings.push(demoFinding(plugins, config, env));
  return findings;
}

function discover(dir: string, config: HubConfig): Found[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, "plugin.json")) && config.plugins[entry.name]?.enabled !== false)
    .map((entry) => ({ name: entry.name, kind: kindOf(join(dir, entry.name, "plugin.json")) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function kindOf(manifestFile: string): string | undefined {
  try {
    const kind = (JSON.parse(readFileSync(manifestFile, "utf8")) as { kind?: unknown }).kind;
    return typeof kind === "string" ? kind : undefined;
  } catch {
    return undefined;
  }
}

function demoFinding(plugins: readonly Found[], config: HubConfig, env: Readonly<Record<string, string | undefined>>): Finding {
  const demo = plugins.filter((plugin) => plugin.name.startsWith("demo-")).map((plugin) => plugin.name);
  if (demo.length === 0) return pass("demo", "no demo plugins are enabled");
  const production = env["NODE_ENV"] === "production";
  const what = `the demo plugins are enabled (${demo.join(", ")})${config.demoBusinessSystem ? " and `kefu-hub start` starts the demo business system" : ""}`;
  const fix = "disable them (KEFU_PLUGINS_DIR pointing at your own plugins, or plugins.<name>.enabled false) and set KEFU_DEMO_BUSINESS_SYSTEM=false";
  return production ? fail("demo", `NODE_ENV=production, yet ${what}`, fix) : warn("demo", `${what}; fine for a trial, not for production`, fix);
}
