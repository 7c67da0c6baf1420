import { readFile } from "node:fs/promises";
import { hubPaths } from "../paths.ts";
import type { RulesetProblem } from "../routing/compiled-ruleset.ts";
import { createRulesetChecker } from "../routing/ruleset-checker.ts";
import { createSchemaRegistry } from "../schemas/schema-registry.ts";

export const RULES_USAGE = `Usage: kefu-hub rules validate <file> [--strict]

Validates a routing ruleset file against schemas/ruleset.schema.json and compiles it as the hub
would on PUT /v1/routing/ruleset, offline. Prints every problem; exits 1 on an error (and, with
--strict, on a warning such as a shadowed rule), 0 otherwise.
`;

export interface Output {
  write(text: string): void;
}

/** `kefu-hub rules <subcommand>`; returns the exit code. */
export async function runRulesCommand(args: readonly string[], out: Output, err: Output): Promise<number> {
  const [subcommand, ...rest] = args;
  const strict = rest.includes("--strict");
  const files = rest.filter((arg) => arg !== "--strict");
  if (subcommand !== "validate" || files.length !== 1 || rest.some((arg) => arg.startsWith("--") && arg !== "--strict")) {
    err.write(RULES_USAGE);
    return 2;
  }
  const file = files[0] as string;
  let document: unknown;
  try {
    document = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    err.write(`${file}: cannot read a JSON ruleset: ${(error as Error).message}\n`);
    return 1;
  }
  const result = createRulesetChecker(createSchemaRegistry(hubPaths().schemas)).check(document);
  const errors = [...result.schemaErrors, ...result.errors];
  for (const problem of errors) err.write(line("error", problem));
  for (const problem of result.warnings) err.write(line("warning", problem));
  if (errors.length > 0 || (strict && result.warnings.length > 0)) {
    err.write(`${file}: ${errors.length} error(s), ${result.warnings.length} warning(s)\n`);
    return 1;
  }
  const rules = result.compiled?.rules ?? [];
  const lines = new Set(rules.map((rule) => rule.route.businessLine));
  out.write(`${file}: ok — ${rules.length} rules, ${lines.size} business lines, ${result.warnings.length} warning(s)\n`);
  return 0;
}

function line(level: string, problem: RulesetProblem): string {
  return `${level.padEnd(7)} ${problem.pointer || "/"}  ${problem.message}\n`;
}
