import type { RequestListener } from "node:http";
import { ERROR_CODES } from "./errors.ts";
import { PROBLEM_CONTENT_TYPE, problemType } from "./problem.ts";

/**
 * What the HTTP server answers before the hub is built (e.g. while Redis is still starting):
 * `/healthz` says the process lives, everything else is 503 not_ready with the reason, so that
 * orchestrators and callers see why instead of a refused connection.
 */
export function bootingHandler(reason: () => string): RequestListener {
  return (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz") {
      res.writeHead(200, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify({ status: "ok" }));
      return;
    }
    const detail = reason();
    const body = JSON.stringify({
      type: problemType("not_ready"),
      title: ERROR_CODES.not_ready.title,
      status: 503,
      detail,
      code: "not_ready",
      instance: path,
      checks: { startup: detail },
    });
    res.writeHead(503, { "content-type": PROBLEM_CONTENT_TYPE, "retry-after": "1" }).end(body);
  };
}
