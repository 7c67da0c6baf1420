import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";
import type { Queue } from "bullmq";
import { Router, type Express, type RequestHandler } from "express";
import { HubError } from "../http/errors.ts";
import type { AdminGuard } from "./admin-guard.ts";

export const QUEUES_PATH = "/admin/queues";

/** Shown on each queue's page: why there are no retry or remove buttons. */
const READ_ONLY_NOTE =
  "Read-only. Retry a failed delivery with POST /v1/deliveries/{id}/replay or a subscription's dead letters with POST /v1/subscriptions/{id}/replay (see /docs), so that the hub's attempt log stays true.";

/**
 * bull-board at /admin/queues, behind the admin session, read-only: every queue in
 * `readOnlyMode`, and anything but GET/HEAD refused before bull-board sees it. A retry from here
 * would bypass the delivery record and its attempt log (a job retried by BullMQ alone leaves the
 * record saying "dead"), so retry and replay go through the hub's API.
 */
export function queuesBoard(queues: readonly Queue[]): (guard: AdminGuard) => Router {
  return (guard) => {
    const serverAdapter = new ExpressAdapter().setBasePath(QUEUES_PATH);
    createBullBoard({
      queues: queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: true, description: READ_ONLY_NOTE })),
      serverAdapter,
      options: {
        uiConfig: {
          boardTitle: "kefu-hub queues",
          hideDocsLink: true,
          miscLinks: [{ text: "Replay through the API (/docs)", url: "/docs" }, { text: "Sign out (/admin)", url: "/admin" }],
        },
      },
    });
    const board = serverAdapter.getRouter() as Express;
    board.disable("x-powered-by");
    const router = Router();
    router.use(QUEUES_PATH, guard.page, readOnly, mountedApp(board));
    return router;
  };
}

const readOnly: RequestHandler = (req, _res, next) => {
  if (req.method === "GET" || req.method === "HEAD") {
    next();
    return;
  }
  throw new HubError("method_not_allowed", `the queue board is read-only; ${READ_ONLY_NOTE}`, { headers: { allow: "GET, HEAD" } });
};

/**
 * bull-board's adapter is an express app of its own; called from a router (not `app.use`) it would
 * leave its own request prototype on `req`, without the hub's `req.log`. Restored on the way out.
 */
function mountedApp(board: Express): RequestHandler {
  return (req, res, next) => {
    const requestPrototype = Object.getPrototypeOf(req) as object;
    const responsePrototype = Object.getPrototypeOf(res) as object;
    board(req, res, (error?: unknown) => {
      Object.setPrototypeOf(req, requestPrototype);
      Object.setPrototypeOf(res, responsePrototype);
      next(error);
    });
  };
}
