import type { RequestHandler } from "express";
import type { SchemaRegistry } from "../schemas/schema-registry.ts";
import { toFieldErrors } from "../schemas/schema-registry.ts";
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
      return (req, _res, next) => {
        // Express 5 computes req.query on every read; validate (and coerce) one copy and pin it.
        const query: Record<string, unknown> = { ...req.query };
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
