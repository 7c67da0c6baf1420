import type { RequestHandler } from "express";
import { SCHEMA_BASE_URI, toFieldErrors, type FieldError, type SchemaRegistry } from "../schemas/schema-registry.ts";
import { HubError } from "./errors.ts";

export interface Validation {
  /** Validates `req.body` against a schema of `schemas/` (compiled once, here). */
  body(schemaId: string): RequestHandler;
  /** Validates the query string, turning numbers and booleans into their types. */
  query(schemaId: string): RequestHandler;
}

export function createValidation(schemas: SchemaRegistry): Validation {
  return {
    body(schemaId) {
      const validate = schemas.validator(schemaId);
      return (req, _res, next) => {
        if (req.body === undefined) {
          throw new HubError("validation_failed", "the request needs a JSON body", {
            errors: [{ pointer: "", message: "a JSON body is required" }],
          });
        }
        if (!validate(req.body)) {
          const errors = toFieldErrors(validate.errors);
          throw new HubError("validation_failed", summarize("body", errors), { errors });
        }
        next();
      };
    },
    query(schemaId) {
      const validate = schemas.coercingValidator(schemaId);
      const integers = integerProperties(schemas.schemas().get(schemaId.includes("://") ? schemaId : SCHEMA_BASE_URI + schemaId));
      return (req, _res, next) => {
        // Express 5 computes req.query on every read; validate (and coerce) one copy and pin it.
        const query: Record<string, unknown> = { ...req.query };
        const notDecimal = nonDecimalIntegers(query, integers);
        if (notDecimal.length > 0) throw new HubError("validation_failed", summarize("query", notDecimal), { errors: notDecimal });
        if (!validate(query)) {
          const errors = toFieldErrors(validate.errors).map((e) => ({ ...e, pointer: `/query${e.pointer}` }));
          throw new HubError("validation_failed", summarize("query", errors), { errors });
        }
        Object.defineProperty(req, "query", { value: query, writable: true, configurable: true });
        next();
      };
    },
  };
}

function summarize(part: string, errors: { pointer: string; message: string }[]): string {
  const first = errors[0];
  const where = first ? `${first.pointer || "/"} ${first.message}` : "invalid";
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
  return `the ${part} is invalid: ${where}${more}`;
}

/** The query parameters that the schema declares `type: integer`. */
function integerProperties(schema: Record<string, unknown> | undefined): string[] {
  const properties = (schema?.["properties"] ?? {}) as Record<string, { type?: unknown }>;
  return Object.entries(properties).flatMap(([name, property]) => (property.type === "integer" ? [name] : []));
}

const DECIMAL_INTEGER = /^-?\d{1,15}$/;

/**
 * Integers in a query string must be plain decimal digits. ajv's coercion takes `1e309` and
 * `Infinity` for integers (both become Infinity, which then passes `maximum`) and `0x10` or ` 5`
 * too, so that `limit=1e309` reached Redis as "value is not an integer" (a 500).
 */
function nonDecimalIntegers(query: Record<string, unknown>, integers: readonly string[]): FieldError[] {
  const errors: FieldError[] = [];
  for (const name of integers) {
    const value = query[name];
    if (typeof value === "string" && !DECIMAL_INTEGER.test(value)) errors.push({ pointer: `/query/${name}`, message: "must be an integer in decimal digits (at most 15)" });
  }
  return errors;
}
