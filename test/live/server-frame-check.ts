import { hubPaths } from "../../src/paths.ts";
import { createSchemaRegistry, toFieldErrors } from "../../src/schemas/schema-registry.ts";

const validate = createSchemaRegistry(hubPaths().schemas).validator("live/server-frame.schema.json");

/** Why a frame the hub sent does not match schemas/live/server-frame.schema.json (none: it does). */
export function serverFrameViolations(frame: unknown): string[] {
  if (validate(frame)) return [];
  return [`${JSON.stringify(frame).slice(0, 300)}: ${toFieldErrors(validate.errors).map((e) => `${e.pointer} ${e.message}`).join("; ")}`];
}
