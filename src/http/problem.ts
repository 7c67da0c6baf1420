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

export function buildProblem(
  code: ErrorCode,
  detail: string,
  extras: { instance?: string; requestId?: string; errors?: FieldError[]; extensions?: Record<string, unknown> } = {},
): Problem {
  const { status, title } = ERROR_CODES[code];
  const problem: Problem = { ...extras.extensions, type: problemType(code), title, status, detail, code };
  if (extras.instance) problem.instance = extras.instance;
  if (extras.requestId) problem.requestId = extras.requestId;
  if (extras.errors) problem.errors = extras.errors;
  return problem;
}

export function sendProblem(res: Response, problem: Problem, headers: Record<string, string> = {}): void {
  res.status(problem.status).set(headers).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
}
