import autocannon from "autocannon";
import type { LoadOptions, LoadResult } from "./load.ts";

function randomPathOf({ prefix, count, suffix = "" }: NonNullable<LoadOptions["randomPath"]>): (request: autocannon.Request) => autocannon.Request {
  return (request) => ({ ...request, path: `${prefix}${Math.floor(Math.random() * count)}${suffix}` });
}

function everyPathOf({ prefix }: NonNullable<LoadOptions["everyPath"]>): (request: autocannon.Request) => autocannon.Request {
  let next = 0;
  return (request) => ({ ...request, path: `${prefix}${next++}` });
}

const options = JSON.parse(process.argv[2] ?? "{}") as LoadOptions;
const pathOf = options.everyPath ? everyPathOf(options.everyPath) : options.randomPath ? randomPathOf(options.randomPath) : undefined;
const result = await autocannon({
  url: options.url,
  method: options.method ?? "GET",
  headers: options.headers ?? {},
  ...(options.body !== undefined ? { body: options.body } : {}),
  connections: options.connections ?? 50,
  ...(options.everyPath ? { amount: options.everyPath.count } : { duration: options.durationSeconds ?? 5 }),
  ...(pathOf ? { requests: [{ setupRequest: pathOf }] } : {}),
});
const report: LoadResult = {
  requestsPerSecond: result.requests.average,
  p50Ms: result.latency.p50,
  p99Ms: result.latency.p99,
  failures: result.non2xx + result.errors + result.timeouts,
  total: result.requests.total,
};
process.send?.(report, () => process.exit(0));
