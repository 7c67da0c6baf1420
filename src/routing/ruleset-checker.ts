import type { Engine } from "json-rules-engine";
import { HubError } from "../http/errors.ts";
import { toFieldErrors, type FieldError, type SchemaRegistry } from "../schemas/schema-registry.ts";
import { compileRuleset } from "./compile-ruleset.ts";
import type { CompiledRuleset, CompileResult, RulesetProblem } from "./compiled-ruleset.ts";
import { createEngine, operatorLookup } from "./operators.ts";
import type { RulesetDocument } from "./ruleset.ts";

export interface CheckResult extends CompileResult {
  /** Schema violations; when there are any, nothing was compiled. */
  schemaErrors: RulesetProblem[];
}

export interface RulesetChecker {
  /** Schema, then compilation. Never throws for a bad document. */
  check(document: unknown): CheckResult;
  /** The compiled ruleset, or a HubError: 400 `validation_failed` (schema) / 422 `unprocessable` (rules). */
  compileOrThrow(document: unknown, what?: string): { compiled: CompiledRuleset; warnings: RulesetProblem[] };
}

export function createRulesetChecker(schemas: SchemaRegistry): RulesetChecker {
  const validate = schemas.validator<RulesetDocument>("ruleset.schema.json");
  // One engine only to look operators up; evaluation never runs it.
  const engine: Engine = createEngine();
  const operator = operatorLookup(engine);
  const check = (document: unknown): CheckResult => {
    // ajv's useDefaults writes into what it validates: validate a copy, keep the caller's intact.
    const copy = structuredClone(document);
    if (!validate(copy)) {
      const schemaErrors = toFieldErrors(validate.errors).map((error) => nameRule(error, copy));
      return { schemaErrors, errors: [], warnings: [] };
    }
    return { schemaErrors: [], ...compileRuleset(copy, { operator }) };
  };
  return {
    check,
    compileOrThrow(document, what = "the ruleset") {
      const result = check(document);
      if (result.schemaErrors.length > 0) {
        throw new HubError("validation_failed", `${what} does not match schemas/ruleset.schema.json: ${describe(result.schemaErrors)}`, {
          errors: result.schemaErrors.map(toField),
        });
      }
      if (!result.compiled) {
        throw new HubError("unprocessable", `${what} cannot be compiled: ${describe(result.errors)}`, {
          errors: result.errors.map(toField),
          extensions: { warnings: result.warnings },
        });
      }
      return { compiled: result.compiled, warnings: result.warnings };
    },
  };
}

/** Schema errors inside a rule say which rule, by name, not only by index. */
function nameRule(error: FieldError, document: unknown): RulesetProblem {
  const index = /^\/rules\/(\d+)/.exec(error.pointer)?.[1];
  const rules = (document as { rules?: unknown } | null)?.rules;
  const rule = index !== undefined && Array.isArray(rules) ? (rules[Number(index)] as { name?: unknown } | undefined) : undefined;
  if (typeof rule?.name !== "string") return error;
  return { pointer: error.pointer, rule: rule.name, message: `rule "${rule.name}": ${error.message}` };
}

function toField(problem: RulesetProblem): FieldError {
  return { pointer: problem.pointer, message: problem.message };
}

function describe(problems: readonly RulesetProblem[]): string {
  const [first] = problems;
  if (!first) return "invalid";
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
  return `${first.pointer} ${first.message}${more}`;
}
