import { HubError } from "../http/errors.ts";
import { toFieldErrors, type FieldError, type SchemaRegistry } from "../schemas/schema-registry.ts";
import type { CallSite } from "./call-outcome.ts";
import type { PLUGIN_METHODS, PluginKind } from "./plugin-caller.ts";

/** The input schema of each method of each kind (the optional ones too), in schemas/plugins/input/. */
const INPUT_SCHEMAS: { [K in PluginKind]: Record<(typeof PLUGIN_METHODS)[K][number], string> & Record<string, string> } = {
  orders: { getOrder: "plugins/input/get-order.schema.json" },
  payments: { getPayments: "plugins/input/get-payments.schema.json" },
  logistics: { track: "plugins/input/track.schema.json" },
  crm: { getCustomer: "plugins/input/get-customer.schema.json" },
  transform: { inbound: "plugins/input/inbound.schema.json", outbound: "plugins/input/outbound.schema.json" },
};

export interface InputCheckOptions {
  schemas: SchemaRegistry;
  /** How deep arrays and objects may nest in an input (a transform's webhook body is the deepest). @defaultValue 32 */
  maxDepth?: number;
}

export type InputCheck = (site: CallSite, input: unknown) => void;

/**
 * Checks a method's input before it reaches the sandbox, answering HubError `validation_failed`
 * with pointers into `{method, input}` (the body of POST /v1/plugins/{name}/invoke). First the
 * bounds no schema can state: a depth that JSON.stringify (and every recursive walker after it)
 * survives, and well-formed Unicode, since a lone surrogate makes encodeURIComponent throw inside
 * the plugin; then the method's schema.
 */
export function createInputCheck({ schemas, maxDepth = 32 }: InputCheckOptions): InputCheck {
  return (site, input) => {
    const where = `plugin ${site.plugin} ${site.method}(): the input is invalid`;
    const bound = outOfBounds(input, maxDepth);
    if (bound) throw new HubError("validation_failed", `${where}: ${bound.pointer} ${bound.message}`, { errors: [bound] });
    const schemaId = (INPUT_SCHEMAS[site.kind] as Record<string, string>)[site.method];
    if (schemaId === undefined) return;
    const validate = schemas.validator(schemaId);
    if (validate(input)) return;
    const errors = toFieldErrors(validate.errors).map((error) => ({ ...error, pointer: `/input${error.pointer}` }));
    const first = errors[0];
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
    throw new HubError("validation_failed", `${where}: ${first ? `${first.pointer} ${first.message}` : `does not match schemas/${schemaId}`}${more}`, { errors });
  };
}

/** Where a value sits in the input: built into a JSON pointer only when something is out of bounds. */
interface Place {
  parent: Place | undefined;
  key: string;
}

function pointerOf(place: Place | undefined): string {
  const keys: string[] = [];
  for (let at = place; at; at = at.parent) keys.push(at.key.replaceAll("~", "~0").replaceAll("/", "~1"));
  return `/input${keys.reverse().map((key) => `/${key}`).join("")}`;
}

/**
 * The first place where `input` nests too deep or holds a string that is not well-formed Unicode.
 * Iterative: a deep input must not overflow this walk either. Pointers are built only for what is
 * reported (a transform's webhook body is walked on every inbound delivery).
 */
function outOfBounds(input: unknown, maxDepth: number): FieldError | undefined {
  if (typeof input === "string") return input.isWellFormed() ? undefined : { pointer: pointerOf(undefined), message: LONE_SURROGATE };
  // Only objects and arrays are queued; their strings are checked where they are met.
  const stack: { value: object; place: Place | undefined; depth: number }[] = [];
  if (typeof input === "object" && input !== null) stack.push({ value: input, place: undefined, depth: 0 });
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { value, place, depth } = item;
    if (depth >= maxDepth) return { pointer: pointerOf(place), message: `nests deeper than ${maxDepth} levels` };
    for (const key of Object.keys(value)) {
      if (!key.isWellFormed()) return { pointer: pointerOf({ parent: place, key }), message: "has a name that is not well-formed Unicode (it holds a lone surrogate)" };
      const child = (value as Record<string, unknown>)[key];
      if (typeof child === "string") {
        if (!child.isWellFormed()) return { pointer: pointerOf({ parent: place, key }), message: LONE_SURROGATE };
      } else if (typeof child === "object" && child !== null) {
        stack.push({ value: child, place: { parent: place, key }, depth: depth + 1 });
      }
    }
  }
  return undefined;
}

const LONE_SURROGATE = "must be well-formed Unicode (it holds a lone surrogate)";
