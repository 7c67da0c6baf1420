import assert from "node:assert/strict";

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: { pointer: string; message: string }[];
  [extension: string]: unknown;
}

/** Asserts an RFC 9457 answer with this status and code, and returns its body. */
export async function expectProblem(response: Response, status: number, code: string): Promise<ProblemBody> {
  const text = await response.text();
  assert.equal(response.status, status, `expected ${status} ${code}, got ${response.status}: ${text}`);
  assert.match(response.headers.get("content-type") ?? "", /^application\/problem\+json/);
  const body = JSON.parse(text) as ProblemBody;
  assert.equal(body.code, code);
  assert.equal(body.status, status);
  assert.equal(body.type, `https://kefu-hub.dev/problems/${code}`);
  assert.equal(typeof body.title, "string");
  assert.equal(typeof body.detail, "string");
  assert.doesNotMatch(text, /\n\s+at /, "a stack trace leaked into the response");
  return body;
}
