import type { ServerResponse } from "node:http";

/**
 * Writes a JSON answer without express's res.json, which parses and re-formats the content type
 * (content-type + mime-types) on every call: measurable on hot routes (see bench/http.ts).
 */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.setHeader("content-length", Buffer.byteLength(text));
  res.end(text);
}
