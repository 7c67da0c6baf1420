import { gzipSync } from "node:zlib";

/**
 * Hostile requests over every operation of an OpenAPI document, from a seed: bad path encodings,
 * odd query values, mutated and malformed bodies, broken compression, wrong content types. Used by
 * test/http/fuzz.test.ts (nothing may be answered ≥ 500) and bench/hostile.ts (RSS over two runs).
 */
export interface HostileRequest {
  method: string;
  /** Path and query, to append to the hub's URL. */
  url: string;
  headers: Record<string, string>;
  body?: Buffer | string;
  /** The operation it was made for, e.g. `PATCH /v1/subscriptions/{id}`. */
  operation: string;
}

export interface Operation {
  method: string;
  path: string;
  pathParameters: string[];
  queryParameters: string[];
  /** A valid-looking body (the schema's first example), when the operation takes one. */
  example?: unknown;
  takesBody: boolean;
}

interface OpenApiLike {
  paths: Record<string, Record<string, unknown>>;
  components?: { schemas?: Record<string, { examples?: unknown[] }> };
}

const METHODS = ["get", "put", "post", "patch", "delete"];

/** Every operation of the document with its parameters and an example body. */
export function operationsOf(document: OpenApiLike): Operation[] {
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    const shared = (item["parameters"] ?? []) as { name: string; in: string }[];
    for (const method of METHODS) {
      const operation = item[method] as { parameters?: { name: string; in: string }[]; requestBody?: { content?: Record<string, { schema?: { $ref?: string }; example?: unknown }> } } | undefined;
      if (!operation) continue;
      const parameters = [...shared, ...(operation.parameters ?? [])];
      const media = operation.requestBody?.content?.["application/json"];
      const ref = media?.schema?.$ref?.replace("#/components/schemas/", "");
      const example = media?.example ?? (ref ? document.components?.schemas?.[ref]?.examples?.[0] : undefined);
      operations.push({
        method: method.toUpperCase(),
        path,
        pathParameters: parameters.filter((p) => p.in === "path").map((p) => p.name),
        queryParameters: parameters.filter((p) => p.in === "query").map((p) => p.name),
        ...(example === undefined ? {} : { example }),
        takesBody: operation.requestBody !== undefined,
      });
    }
  }
  return operations;
}

/** mulberry32: small, fast and seeded, so that a failing run can be repeated. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const nested = (levels: number): string => "[".repeat(levels) + "]".repeat(levels);

/** Raw path segments, some valid, most hostile; used as they are (already percent-encoded or not). */
const PATH_VALUES = [
  "demo-orders", "SO-100001", "C-0001", "sub_AAAAAAAAAAAAAAAA", "evt_x.sub_AAAAAAAAAAAAAAAA", "1", "0",
  "%ff", "%C3", "%zz", "%ED%A0%80", "%", "a%", "%00", "%2F", "%2e%2e", "..", ".", "%F0%9F%98%80", "%E2%80%AE",
  "x".repeat(10_000), "%41".repeat(2000), "-1", "99999999999999999999", "__proto__", "constructor", "a:b@c", "%20",
];

const QUERY_VALUES = ["1e309", "Infinity", "-1", "0", "1", "200", "201", "1.5", "abc", "", "%ff", "0x10", "x".repeat(5000), "null", "[]", "order,order", "SO-1%00"];

/** Values that replace one leaf of a valid example body. */
const HOSTILE_VALUES: unknown[] = [
  "\ud800", "\udfff\ud800", "x".repeat(10_000), "", " ", "\u0000", "../../etc/passwd", "%ff", "<script>", -1, 0, 1e308, -0, 2 ** 53, 1.5,
  null, true, [], {}, [[[]]], { __proto__: { polluted: true } }, { constructor: { prototype: { x: 1 } } }, "2026-13-45T99:99:99Z", "*", "ticket.*",
];

/** Whole bodies that are hostile by themselves (raw text). */
const RAW_BODIES = (random: () => number): string[] => [
  "", "{", "}", "null", "[]", "1", '"x"', "true", "{}", '{"a":', "\u0000", "\ufeff{}", '{"a":1,"a":2}',
  `{"x":${nested(100)}}`, `{"x":${nested(20_000)}}`, nested(70), `{"${"k".repeat(100_000)}":1}`,
  `{${Array.from({ length: 5000 }, (_, i) => `"k${i}":${i}`).join(",")}}`, '{"x":"\\ud800"}', '{"__proto__":{"polluted":true}}',
  `{"n":1e309}`, `{"n":-1e309}`, `[${Array.from({ length: 1000 }, () => "{}").join(",")}]`, String(random()),
];

function pick<T>(random: () => number, values: readonly T[]): T {
  return values[Math.floor(random() * values.length)] as T;
}

/** A copy of `value` with one random leaf (or the whole) replaced by `replacement`. */
function mutate(value: unknown, replacement: unknown, random: () => number): unknown {
  if (typeof value !== "object" || value === null || random() < 0.15) return replacement;
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [...(value as unknown[])] : { ...(value as Record<string, unknown>) };
  const keys = Object.keys(copy);
  if (keys.length === 0 || random() < 0.1) {
    (copy as Record<string, unknown>)[random() < 0.5 ? "unexpected" : "x".repeat(1000)] = replacement;
    return copy;
  }
  const key = pick(random, keys);
  (copy as Record<string, unknown>)[key] = mutate((copy as Record<string, unknown>)[key], replacement, random);
  return copy;
}

export interface HostileOptions {
  seed: number;
  /** Requests per operation. */
  perOperation: number;
  /** `Authorization` header values to use; most requests carry the first. */
  authorizations: readonly string[];
}

/** `perOperation` hostile requests for each operation, in a seeded order. */
export function hostileRequests(operations: readonly Operation[], { seed, perOperation, authorizations }: HostileOptions): HostileRequest[] {
  const random = seededRandom(seed);
  const requests: HostileRequest[] = [];
  for (const operation of operations) {
    for (let i = 0; i < perOperation; i++) requests.push(oneRequest(operation, random, authorizations));
  }
  // Interleave operations, as a real client mix would.
  for (let i = requests.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [requests[i], requests[j]] = [requests[j] as HostileRequest, requests[i] as HostileRequest];
  }
  return requests;
}

function oneRequest(operation: Operation, random: () => number, authorizations: readonly string[]): HostileRequest {
  let path = operation.path;
  for (const name of operation.pathParameters) path = path.replace(`{${name}}`, pick(random, PATH_VALUES));
  const query: string[] = [];
  for (const name of operation.queryParameters) if (random() < 0.6) query.push(`${name}=${pick(random, QUERY_VALUES)}`);
  if (random() < 0.1) query.push(`${pick(random, ["limit", "unknown", "__proto__", "cursor"])}=${pick(random, QUERY_VALUES)}`);
  if (random() < 0.05) query.push("limit=1&limit=2");
  const url = query.length > 0 ? `${path}?${query.join("&")}` : path;

  const headers: Record<string, string> = {};
  const auth = random() < 0.9 ? authorizations[0] : pick(random, [...authorizations, "Bearer ", "Basic x", "Bearer " + "k".repeat(5000)]);
  if (auth !== undefined) headers["authorization"] = auth;
  if (operation.method === "PUT" || random() < 0.05) headers["if-match"] = pick(random, ["*", '"1"', 'W/"2"', '"x"', "", '"99999999999"']);
  if (random() < 0.05) headers["x-request-id"] = pick(random, ["x".repeat(500), "a b", "ok-id"]);

  const request: HostileRequest = { method: operation.method, url, headers, operation: `${operation.method} ${operation.path}` };
  // fetch sends no body with GET; DELETE and POST without a request body get one now and then.
  if (operation.method === "GET" || (!operation.takesBody && random() < 0.8)) return request;

  headers["content-type"] = random() < 0.9 ? "application/json" : pick(random, ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1", "application/merge-patch+json", "multipart/form-data"]);
  const roll = random();
  let body: string;
  if (roll < 0.45 && operation.example !== undefined) body = JSON.stringify(mutate(operation.example, pick(random, HOSTILE_VALUES), random));
  else if (roll < 0.55 && operation.example !== undefined) body = JSON.stringify(operation.example);
  else body = pick(random, RAW_BODIES(random));
  const encodingRoll = random();
  if (encodingRoll < 0.06) {
    headers["content-encoding"] = pick(random, ["gzip", "deflate", "br", "zstd"]);
    request.body = Buffer.from(`not ${headers["content-encoding"]} ${body.slice(0, 50)}`);
  } else if (encodingRoll < 0.09) {
    headers["content-encoding"] = "gzip";
    request.body = gzipSync(body);
  } else if (encodingRoll < 0.1) {
    headers["content-encoding"] = pick(random, ["lzma", "gzip, br", "identity"]);
    request.body = body;
  } else {
    request.body = body;
  }
  return request;
}
