import { readFileSync } from "node:fs";
import type { SchemaRegistry } from "../schemas/schema-registry.ts";
import { toFieldErrors } from "../schemas/schema-registry.ts";
import type { HubConfig } from "./config.ts";
import { ENV_BINDINGS } from "./env-map.ts";

export class ConfigError extends Error {
  override name = "ConfigError";
}

export interface LoadConfigOptions {
  env: Readonly<Record<string, string | undefined>>;
  schemas: SchemaRegistry;
  /** Values that win over everything else; tests use it. */
  overrides?: Partial<HubConfig>;
}

type Source = { kind: "file"; path: string } | { kind: "env"; name: string } | { kind: "override" };

/** Defaults (from the schema) → JSON file named by KEFU_CONFIG → environment, validated once. */
export function loadConfig({ env, schemas, overrides = {} }: LoadConfigOptions): HubConfig {
  const merged: Record<string, unknown> = {};
  const sources = new Map<string, Source>();

  const filePath = env["KEFU_CONFIG"];
  if (filePath) {
    for (const [key, value] of Object.entries(readConfigFile(filePath))) {
      merged[key] = value;
      sources.set(key, { kind: "file", path: filePath });
    }
  }
  for (const [name, binding] of Object.entries(ENV_BINDINGS)) {
    const raw = env[name];
    if (raw === undefined || raw === "") continue;
    merged[binding.key] = binding.parse(raw);
    sources.set(binding.key, { kind: "env", name });
  }
  for (const [key, value] of Object.entries(overrides)) {
    merged[key] = value;
    sources.set(key, { kind: "override" });
  }

  const validate = schemas.validator<HubConfig>("config.schema.json");
  if (!validate(merged)) {
    const problems = toFieldErrors(validate.errors).map((error) => describe(error, merged, sources, env));
    throw new ConfigError(`invalid configuration:\n  ${problems.join("\n  ")}`);
  }
  return merged;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(`KEFU_CONFIG=${path}: cannot read the file (${(error as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`KEFU_CONFIG=${path}: not valid JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`KEFU_CONFIG=${path}: must hold a JSON object of config keys`);
  }
  return parsed as Record<string, unknown>;
}

function describe(
  error: { pointer: string; message: string },
  merged: Record<string, unknown>,
  sources: Map<string, Source>,
  env: Readonly<Record<string, string | undefined>>,
): string {
  const key = error.pointer.split("/")[1] ?? "";
  const source = sources.get(key);
  const value = valueAt(merged, error.pointer);
  const shown = value === undefined ? "" : `=${JSON.stringify(value)}`;
  if (source?.kind === "env") {
    return `${source.name}=${JSON.stringify(env[source.name])} (config key ${error.pointer}${shown}) ${error.message}`;
  }
  if (source?.kind === "file") return `${source.path}: key ${error.pointer}${shown} ${error.message}`;
  return `config key ${error.pointer}${shown} ${error.message}`;
}

function valueAt(root: unknown, pointer: string): unknown {
  let current: unknown = root;
  for (const segment of pointer.split("/").slice(1)) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string, unknown>)[segment.replaceAll("~1", "/").replaceAll("~0", "~")];
  }
  return current;
}
