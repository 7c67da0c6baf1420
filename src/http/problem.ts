import type { Response } from "express";
import type { FieldError } from "../schemas/schema-registry.ts";
import { ERROR_CODES, type ErrorCode } from "./errors.ts";

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** RFC 9457 problem document. `code` repeats the last segment of `type` for easy matching. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  requestId?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

export function problemType(code: ErrorCode): string {
  return `https://kefu-hub.dev/problems/${code}`;
}

/**
 * Bounds of what a problem echoes back: a body with 50k unknown keys, or one 1 MB key, made
 * answers of 2–3 MB (issue 13 B). Longer text is cut, with `…` at the end.
 */
export const PROBLEM_LIMITS = {
  /** Failing fields listed; `omittedErrors` counts the rest. */
  errors: 20,
  pointerChars: 200,
  messageChars: 300,
  detailChars: 1000,
  instanceChars: 500,
} as const;

export function buildProblem(
  code: ErrorCode,
  detail: string,
  extras: { instance?: string; requestId?: string; errors?: FieldError[]; extensions?: Record<string, unknown> } = {},
): Problem {
  const { status, title } = ERROR_CODES[code];
  const problem: Problem = { ...extras.extensions, type: problemType(code), title, status, detail: clip(detail, PROBLEM_LIMITS.detailChars), code };
  if (extras.instance) problem.instance = clip(extras.instance, PROBLEM_LIMITS.instanceChars);
  if (extras.requestId) problem.requestId = extras.requestId;
  if (extras.errors) Object.assign(problem, boundErrors(extras.errors));
  return problem;
}

/** The first {@link PROBLEM_LIMITS}.errors field errors, cut to length, and how many were left out. */
export function boundErrors(errors: readonly FieldError[]): { errors: FieldError[]; omittedErrors?: number } {
  const kept = errors.slice(0, PROBLEM_LIMITS.errors).map((error) => ({
    pointer: clip(error.pointer, PROBLEM_LIMITS.pointerChars),
    message: clip(error.message, PROBLEM_LIMITS.messageChars),
  }));
  return errors.length > PROBLEM_LIMITS.errors ? { errors: kept, omittedErrors: errors.length - PROBLEM_LIMITS.errors } : { errors: kept };
}

/** `text` cut to `max` characters (the last one `…`), never splitting a surrogate pair. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

export function sendProblem(res: Response, problem: Problem, headers: Record<string, string> = {}): void {
  res.status(problem.status).set(headers).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
}
