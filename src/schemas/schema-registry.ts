import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";

// ajv-formats is CommonJS; under ESM its default export arrives wrapped.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

export interface FieldError {
  /** JSON pointer into the validated value, e.g. `/data/ticketId`. */
  pointer: string;
  message: string;
}

export interface SchemaRegistry {
  /** The compiled validator of a schema, by its `$id` (compiled once, then cached by ajv). */
  validator<T = unknown>(schemaId: string): ValidateFunction<T>;
  /** Same, but turning strings into the numbers and booleans the schema asks for (query strings). */
  coercingValidator<T = unknown>(schemaId: string): ValidateFunction<T>;
  /** Every loaded schema by `$id`, as read from disk. */
  schemas(): ReadonlyMap<string, Record<string, unknown>>;
}

export const SCHEMA_BASE_URI = "https://kefu-hub.dev/schemas/";

/** Loads every `*.json` below `dir` into one ajv instance, so schemas may `$ref` each other by `$id`. */
export function createSchemaRegistry(dir: string): SchemaRegistry {
  const loaded = new Map<string, Record<string, unknown>>();
  for (const file of listJsonFiles(dir)) {
    const schema = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    const id = schema["$id"];
    if (typeof id !== "string") throw new Error(`schema ${file} has no $id`);
    if (loaded.has(id)) throw new Error(`schema $id ${id} appears twice (${file})`);
    loaded.set(id, schema);
  }
  const plain = createAjv(loaded, false);
  let coercing: Ajv2020 | undefined;
  // Per-call lookups (a plugin's input and output on every call) cost 1–2 % of the hub's CPU in
  // ajv.getSchema's URI resolution (bench/inbound.ts): found once, kept.
  const found = new Map<Ajv2020, Map<string, ValidateFunction>>();
  const lookup = <T>(ajv: Ajv2020, schemaId: string): ValidateFunction<T> => {
    let cache = found.get(ajv);
    if (!cache) found.set(ajv, (cache = new Map<string, ValidateFunction>()));
    const known = cache.get(schemaId);
    if (known) return known as ValidateFunction<T>;
    const id = schemaId.includes("://") ? schemaId : SCHEMA_BASE_URI + schemaId;
    const validate = ajv.getSchema<T>(id);
    if (!validate) throw new Error(`unknown schema ${id}`);
    cache.set(schemaId, validate);
    return validate;
  };
  return {
    validator: (schemaId) => lookup(plain, schemaId),
    coercingValidator: (schemaId) => lookup((coercing ??= createAjv(loaded, true)), schemaId),
    schemas: () => loaded,
  };
}

function createAjv(schemas: ReadonlyMap<string, Record<string, unknown>>, coerceTypes: boolean): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: true, useDefaults: true, coerceTypes });
  addFormats(ajv);
  for (const schema of schemas.values()) ajv.addSchema(schema);
  return ajv;
}

/**
 * ajv errors as `{pointer, message}`, pointing at the missing property itself when one is required,
 * one entry per field. ajv reports a field once per schema that checks it (an event's `data` is
 * typed by the envelope and by its type's schema: `/data must be object` twice) and adds an `if`
 * entry (`must match "then" schema`, at the `if`'s own level) over what failed inside the `then`;
 * those wrappers are dropped and a field's distinct messages joined.
 */
export function toFieldErrors(errors: readonly ErrorObject[] | null | undefined): FieldError[] {
  const all = errors ?? [];
  const specific = all.filter((error) => error.keyword !== "if");
  const byPointer = new Map<string, string[]>();
  for (const { pointer, message } of (specific.length > 0 ? specific : all).map(toFieldError)) {
    const messages = byPointer.get(pointer);
    if (!messages) byPointer.set(pointer, [message]);
    else if (!messages.includes(message)) messages.push(message);
  }
  return [...byPointer].map(([pointer, messages]) => ({ pointer, message: messages.join("; ") }));
}

function toFieldError(error: ErrorObject): FieldError {
  if (error.keyword === "required") {
    const missing = (error.params as { missingProperty: string }).missingProperty;
    return { pointer: `${error.instancePath}/${escapePointer(missing)}`, message: "is required" };
  }
  if (error.keyword === "additionalProperties" || error.keyword === "unevaluatedProperties") {
    const params = error.params as { additionalProperty?: string; unevaluatedProperty?: string };
    const extra = params.additionalProperty ?? params.unevaluatedProperty ?? "";
    return { pointer: `${error.instancePath}/${escapePointer(extra)}`, message: "is not an allowed property" };
  }
  if (error.keyword === "enum") {
    const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
    return { pointer: error.instancePath, message: `must be one of ${allowed.map((v) => JSON.stringify(v)).join(", ")}` };
  }
  return { pointer: error.instancePath, message: error.message ?? "is invalid" };
}

function escapePointer(segment: string): string {
  return segment.replaceAll("~", "~0").replaceAll("/", "~1");
}

function listJsonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".json"))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}
