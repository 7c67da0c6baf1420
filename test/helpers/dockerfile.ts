import { readFileSync } from "node:fs";

/** One Dockerfile instruction, continuation lines joined, comments dropped. */
export interface Instruction {
  keyword: string;
  args: string;
}

export const REPOSITORY_ROOT = new URL("../../", import.meta.url);

/** docker/Dockerfile's instructions, read as a builder would (no Docker engine runs here). */
export function dockerfile(path = "docker/Dockerfile"): Instruction[] {
  return readFileSync(new URL(path, REPOSITORY_ROOT), "utf8")
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith("#"))
    .map((line) => {
      const [keyword = "", ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(" ") };
    });
}

/** The instructions of each stage, in order; the last one is the image. */
export function stages(instructions: readonly Instruction[] = dockerfile()): Instruction[][] {
  const result: Instruction[][] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === "FROM") result.push([]);
    result.at(-1)?.push(instruction);
  }
  return result;
}

/**
 * The variables a stage's `ENV` instructions set (`ENV A=1 B=2` form). A quoted value or the
 * legacy `ENV A 1` form throws, so that a change of style fails a test instead of being misread.
 */
export function envOf(stage: readonly Instruction[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of stage.filter((i) => i.keyword === "ENV")) {
    for (const pair of args.split(/\s+/)) {
      const match = /^([A-Za-z_][A-Za-z0-9_]*)=([^"'\s]*)$/.exec(pair);
      if (!match) throw new Error(`ENV ${args}: only unquoted NAME=value pairs are understood here`);
      env[match[1]!] = match[2]!;
    }
  }
  return env;
}

/** A stage's `CMD` in exec form. */
export function cmdOf(stage: readonly Instruction[]): string[] {
  const cmd = stage.findLast((i) => i.keyword === "CMD");
  if (!cmd?.args.startsWith("[")) throw new Error("CMD must be in exec form (a JSON array)");
  return JSON.parse(cmd.args) as string[];
}

/** `COPY` from the build context (not `--from=`): sources and destination, flags dropped. */
export function contextCopies(stage: readonly Instruction[]): { sources: string[]; destination: string }[] {
  return stage
    .filter((i) => i.keyword === "COPY" && !i.args.includes("--from="))
    .map((copy) => {
      const words = copy.args.split(/\s+/).filter((arg) => !arg.startsWith("--"));
      return { sources: words.slice(0, -1), destination: words.at(-1) ?? "." };
    });
}
