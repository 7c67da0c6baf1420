import type { Response } from "express";

/**
 * Writes a JSON answer without express's res.json, which parses and re-formats the content type
 * (content-type + mime-types) on every call: measurable on hot routes (see bench/http.ts).
 */
export function sendJson(res: Response, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.setHeader("content-length", Buffer.byteLength(text));
  res.end(text);
}
