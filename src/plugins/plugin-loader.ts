import { readFile } from "node:fs/promises";
import { basename, isAbsolute, join, relative, resolve, sep } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { build, stop as stopEsbuild, type Plugin as EsbuildPlugin } from "esbuild";
import type { SchemaRegistry } from "../schemas/schema-registry.ts";
import { toFieldErrors } from "../schemas/schema-registry.ts";
import type { PluginKind } from "./plugin-caller.ts";
import type { LoadSpec } from "./runner/protocol.ts";

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

export interface PluginManifest {
  name: string;
  version: string;
  kind: PluginKind;
  description?: string;
  entry: string;
  capabilities: { http?: { allow: string[] }; cache?: boolean; secrets?: string[] };
  limits: { memoryMb: number; timeoutMs: number };
  config?: Record<string, unknown>;
}

/** Per-plugin settings from the hub config (`plugins.<name>`). */
export interface PluginSettings {
  /** @defaultValue true */
  enabled?: boolean;
  /** Validated against the manifest's `config` schema; its defaults fill the gaps. */
  config?: Record<string, unknown>;
  /** Secret values by name; `KEFU_PLUGIN_SECRET_<PLUGIN>_<NAME>` in the environment wins. */
  secrets?: Record<string, string>;
}

export interface PreparedPlugin {
  manifest: PluginManifest;
  /** Everything but `instance`. */
  spec: Omit<LoadSpec, "instance">;
}

export class PluginLoadError extends Error {
  override name = "PluginLoadError";
}

export interface PrepareOptions {
  schemas: SchemaRegistry;
  settings: PluginSettings | undefined;
  env: Readonly<Record<string, string | undefined>>;
}

/** Reads and checks a plugin folder and bundles its entry: everything short of starting an isolate. */
export async function preparePlugin(dir: string, { schemas, settings, env }: PrepareOptions): Promise<PreparedPlugin> {
  const manifest = await readManifest(dir, schemas);
  const config = validateConfig(manifest, settings?.config ?? {});
  const allow = (manifest.capabilities.http?.allow ?? []).map((entry) => resolveOrigin(entry, config));
  const secrets: Record<string, string> = {};
  for (const secretName of manifest.capabilities.secrets ?? []) {
    const value = env[secretEnvName(manifest.name, secretName)] ?? settings?.secrets?.[secretName];
    if (value !== undefined) secrets[secretName] = value;
  }
  const code = await bundle(dir, manifest.entry);
  return {
    manifest,
    spec: {
      plugin: manifest.name,
      code,
      memoryMb: manifest.limits.memoryMb,
      timeoutMs: manifest.limits.timeoutMs,
      allow,
      cache: manifest.capabilities.cache === true,
      config,
      secrets,
    },
  };
}

/** `KEFU_PLUGIN_SECRET_<PLUGIN>_<NAME>`, the plugin name upper-cased with dashes as underscores. */
export function secretEnvName(plugin: string, secret: string): string {
  return `KEFU_PLUGIN_SECRET_${plugin.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_${secret}`;
}

async function readManifest(dir: string, schemas: SchemaRegistry): Promise<PluginManifest> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(join(dir, "plugin.json"), "utf8"));
  } catch (error) {
    throw new PluginLoadError(`plugin.json: ${(error as Error).message}`);
  }
  const validate = schemas.validator<PluginManifest>("plugin-manifest.schema.json");
  if (!validate(parsed)) {
    const errors = toFieldErrors(validate.errors).map((e) => `${e.pointer || "/"} ${e.message}`);
    throw new PluginLoadError(`plugin.json is invalid: ${errors.join("; ")}`);
  }
  if (parsed.name !== basename(dir)) {
    throw new PluginLoadError(`plugin.json: name "${parsed.name}" must equal the folder name "${basename(dir)}"`);
  }
  return parsed;
}

function validateConfig(manifest: PluginManifest, given: Record<string, unknown>): Record<string, unknown> {
  const value = structuredClone(given);
  if (!manifest.config) return value;
  const ajv = new Ajv2020({ allErrors: true, useDefaults: true, strict: false });
  addFormats(ajv);
  let validate;
  try {
    validate = ajv.compile(manifest.config);
  } catch (error) {
    throw new PluginLoadError(`plugin.json: config is not a valid JSON Schema: ${(error as Error).message}`);
  }
  if (!validate(value)) {
    const errors = toFieldErrors(validate.errors).map((e) => `${e.pointer || "/"} ${e.message}`);
    throw new PluginLoadError(`the plugin's config is invalid: ${errors.join("; ")}`);
  }
  return value;
}

/** An allow-list entry → origin; `${config.key}` takes the origin of that config value. */
function resolveOrigin(entry: string, config: Record<string, unknown>): string {
  const reference = /^\$\{config\.([A-Za-z0-9_]+)\}$/.exec(entry);
  const raw = reference ? config[reference[1] ?? ""] : entry;
  if (typeof raw !== "string") throw new PluginLoadError(`capabilities.http.allow: ${entry} refers to config that is not a string URL`);
  try {
    const url = new URL(raw);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("not http(s)");
    return url.origin;
  } catch {
    throw new PluginLoadError(`capabilities.http.allow: ${entry}${reference ? ` (= ${raw})` : ""} is not an http(s) URL`);
  }
}

/** How long esbuild's service process may sit idle after the last bundle before it is stopped. */
const ESBUILD_IDLE_MS = 2000;
// esbuild's service is one child process for the whole Node process (~15 MB RSS), so its idle
// timer is module state too. Bundles are made at start-up and on a hot reload only: between those
// the process is stopped, and the next build() starts a new one by itself.
let bundling = 0;
let idleTimer: NodeJS.Timeout | undefined;

/** Bundles the entry and what it imports from the plugin folder into one IIFE; nothing else may be imported. */
async function bundle(dir: string, entry: string): Promise<string> {
  clearTimeout(idleTimer);
  bundling++;
  try {
    return await bundleOnce(dir, entry);
  } finally {
    if (--bundling === 0) idleTimer = setTimeout(() => void stopEsbuild(), ESBUILD_IDLE_MS).unref();
  }
}

async function bundleOnce(dir: string, entry: string): Promise<string> {
  const root = resolve(dir);
  const confine: EsbuildPlugin = {
    name: "confine-to-plugin-folder",
    setup(builder) {
      builder.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === "entry-point") return undefined;
        const target = isAbsolute(args.path) ? args.path : resolve(args.resolveDir, args.path);
        const isPath = args.path.startsWith(".") || isAbsolute(args.path);
        if (!isPath || (target !== root && !target.startsWith(root + sep))) {
          return { errors: [{ text: `cannot import "${args.path}": a plugin may only import files inside its own folder (use "import type" for the SDK)` }] };
        }
        return undefined;
      });
    },
  };
  try {
    const result = await build({
      entryPoints: [join(root, entry)],
      bundle: true,
      write: false,
      format: "iife",
      globalName: "__kefuExports",
      platform: "neutral",
      target: "es2023",
      logLevel: "silent",
      plugins: [confine],
    });
    return result.outputFiles[0]?.text ?? "";
  } catch (error) {
    const failure = error as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] };
    const first = failure.errors?.[0];
    if (!first) throw new PluginLoadError(`bundling failed: ${(error as Error).message}`);
    const where = first.location ? `${relative(root, resolve(first.location.file)) || first.location.file}:${first.location.line}:${first.location.column}: ` : "";
    throw new PluginLoadError(`syntax error: ${where}${first.text}`);
  }
}
