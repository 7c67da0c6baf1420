import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { SCHEMA_BASE_URI, type SchemaRegistry } from "../schemas/schema-registry.ts";
import { addProblemExamples } from "./problem-examples.ts";

export type OpenApiDocument = Record<string, unknown> & {
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, unknown> } & Record<string, unknown>;
};

export interface BundleOptions {
  /** `openapi/openapi.yaml`. */
  rootFile: string;
  /** `schemas/`, the folder the registry was loaded from. */
  schemasDir: string;
  schemas: SchemaRegistry;
}

/**
 * Reads openapi.yaml, merges the path items of every `paths/*.yaml` beside it (one file per
 * feature, so that features do not all edit one file), and inlines every JSON Schema it references from `schemas/` into
 * `components/schemas`, rewriting references to local ones, so that the served document is one
 * file that Swagger UI and generators read without fetching anything. The schemas stay the only
 * copy in the repository.
 */
export function bundleOpenApi({ rootFile, schemasDir, schemas }: BundleOptions): OpenApiDocument {
  const document = parseYaml(readFileSync(rootFile, "utf8")) as OpenApiDocument;
  document.components ??= { schemas: {} };
  document.components.schemas ??= {};
  const componentNameById = new Map<string, string>();
  const included: Record<string, unknown> = {};

  const include = (schemaId: string): string => {
    const existing = componentNameById.get(schemaId);
    if (existing) return existing;
    const schema = schemas.schemas().get(schemaId);
    if (!schema) throw new Error(`openapi: reference to unknown schema ${schemaId}`);
    const name = componentName(schemaId);
    if (name in included || name in document.components.schemas) {
      throw new Error(`openapi: component name ${name} is taken twice`);
    }
    componentNameById.set(schemaId, name);
    const { $id: _id, $schema: _dialect, ...body } = schema;
    included[name] = {}; // reserve the name before recursing, for schemas that refer to themselves
    included[name] = rewrite(body, (ref) => new URL(ref, schemaId).href);
    return name;
  };

  const rewrite = (node: unknown, resolveRef: (ref: string) => string): unknown => {
    if (Array.isArray(node)) return node.map((item) => rewrite(item, resolveRef));
    if (typeof node !== "object" || node === null) return node;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && typeof value === "string" && !value.startsWith("#")) {
        const absolute = resolveRef(value);
        const [id = "", fragment = ""] = absolute.split("#");
        out[key] = `#/components/schemas/${include(id)}${fragment}`;
      } else {
        out[key] = rewrite(value, resolveRef);
      }
    }
    return out;
  };

  // A reference in the YAML is a file path relative to that YAML file; turn it into the schema's $id.
  const fromYaml = (yamlFile: string) => (ref: string): string => {
    const [file = "", fragment] = ref.split("#");
    const path = relative(schemasDir, resolve(dirname(yamlFile), file)).split("\\").join("/");
    return SCHEMA_BASE_URI + path + (fragment === undefined ? "" : `#${fragment}`);
  };
  const bundled = rewrite(document, fromYaml(rootFile)) as OpenApiDocument;
  bundled.paths ??= {};
  for (const file of listPathFiles(join(dirname(rootFile), "paths"))) {
    const items = rewrite(parseYaml(readFileSync(file, "utf8")), fromYaml(file)) as Record<string, Record<string, unknown>>;
    for (const [path, item] of Object.entries(items ?? {})) {
      if (path in bundled.paths) throw new Error(`openapi: ${path} is defined twice (again in ${file})`);
      bundled.paths[path] = item;
    }
  }
  bundled.components.schemas = { ...bundled.components.schemas, ...included };
  addProblemExamples(bundled);
  return bundled;
}

function listPathFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith(".yaml"))
    .sort()
    .map((name) => join(dir, name));
}

/** `https://kefu-hub.dev/schemas/events/ticket.created.json` → `events.ticket.created`. */
function componentName(schemaId: string): string {
  return schemaId
    .slice(SCHEMA_BASE_URI.length)
    .replace(/(\.schema)?\.json$/, "")
    .replaceAll("/", ".")
    .replace(/[^A-Za-z0-9._-]/g, "_");
}
