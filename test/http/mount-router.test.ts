import assert from "node:assert/strict";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import express, { Router, type RequestHandler } from "express";
import { hiddenRouter } from "../../src/admin/hidden-router.ts";
import { mountRouters } from "../../src/http/mount-router.ts";
import { listRoutes } from "../../src/http/route-table.ts";

/**
 * Marks the request "still in its first event-loop turn" until an immediate queued on arrival
 * runs. Immediates run in order, so a router that hands the request on through `setImmediate`
 * (express does when one matches nothing) makes the handler see `false`.
 */
const turnProbe: RequestHandler = (req, res, next) => {
  let sameTurn = true;
  setImmediate(() => (sameTurn = false));
  res.locals["sameTurn"] = () => sameTurn;
  next();
};

describe("mountRouters", () => {
  let server: Server;
  let base: string;
  const entered: string[] = [];

  before(async () => {
    const app = express();
    app.use(turnProbe);

    const statics = Router();
    statics.use("/demo", (req, res, next) => (entered.push(`demo ${req.path}`), req.path === "/page" ? void res.send("demo page") : next()));

    const pages = Router();
    pages.get("/admin/secret", (_req, res) => void res.send("hidden page"));
    const admin = Router();
    admin.get("/admin/session", (_req, res) => void res.send("sign-in"));
    admin.use(hiddenRouter(pages, ["/admin"]));

    const api = Router();
    api.get("/v1/things/:id", (req, res) => void res.json({ id: req.params["id"], sameTurn: (res.locals["sameTurn"] as () => boolean)() }));
    mountRouters(app, [statics, admin, api]);

    server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    assert.deepEqual(
      listRoutes(app).map((route) => route.path),
      ["/admin/session", "/v1/things/:id"],
      "the hidden router's routes stay out of the route table",
    );
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test("a request passes routers with middleware of their own without an event-loop turn", async () => {
    entered.length = 0;
    const answer = (await (await fetch(`${base}/v1/things/7`)).json()) as { id: string; sameTurn: boolean };
    assert.deepEqual(answer, { id: "7", sameTurn: true });
    assert.deepEqual(entered, [], "the /demo middleware is not entered for /v1 paths");
  });

  test("middleware mounted at a path and a hidden router still serve their own paths", async () => {
    entered.length = 0;
    assert.equal(await (await fetch(`${base}/demo/page`)).text(), "demo page");
    assert.deepEqual(entered, ["demo /page"]);
    assert.equal(await (await fetch(`${base}/admin/secret`)).text(), "hidden page");
    assert.equal(await (await fetch(`${base}/admin/session`)).text(), "sign-in");
  });
});
