import type { Kefu } from "../../src/plugins/sdk/index.ts";

declare const kefu: Kefu<{ baseUrl: string }>;

/**
 * GET a JSON resource of the demo business system: the parsed body, null for 404, and an error
 * that says what failed otherwise. Every demo plugin has its own copy of this file: a plugin may
 * only import files from its own folder.
 */
export async function getJson<T>(path: string): Promise<T | null> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (kefu.secrets["API_TOKEN"]) headers["authorization"] = `Bearer ${kefu.secrets["API_TOKEN"]}`;
  const response = await kefu.http.fetch(`${kefu.config.baseUrl}${path}`, { headers });
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`demo business system answered ${response.status} for GET ${path}`);
  return response.json<T>();
}
