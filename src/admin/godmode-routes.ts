import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Router, type Response } from "express";
import type { MemoryFeed } from "../observability/memory-feed.ts";
import type { AdminGuard } from "./admin-guard.ts";
import { ADMIN_PAGE_HEADERS } from "./admin-html.ts";

export const GODMODE_PATH = "/godmode";

export interface GodmodePages {
  router: (guard: AdminGuard) => Router;
  /** Ends every open stream (on shutdown, so that the HTTP server's close is not held by them). */
  close: () => void;
}

/** d3-hierarchy's UMD build, from node_modules (its `exports` map names it `umd`), served as is: no CDN. */
const D3_HIERARCHY = join(dirname(fileURLToPath(import.meta.resolve("d3-hierarchy"))), "..", "dist", "d3-hierarchy.min.js");

/**
 * `/godmode`: the page (clients/admin/godmode.html), its script, and `/godmode/stream`, one memory
 * snapshot per second as Server-Sent Events; all behind the admin session. A stream ends when its
 * session expires, so that a tab left open does not outlive the sign-in.
 */
export function godmodePages({ feed, clientsDir }: { feed: MemoryFeed; clientsDir: string }): GodmodePages {
  const streams = new Set<Response>();
  const page = join(clientsDir, "admin", "godmode.html");
  return {
    router(guard) {
      const router = Router();
      router.use(GODMODE_PATH, guard.page);
      router.get(GODMODE_PATH, (_req, res) => {
        res.set(ADMIN_PAGE_HEADERS).sendFile(page);
      });
      router.get(`${GODMODE_PATH}/lib/d3-hierarchy.min.js`, (_req, res) => {
        res.set({ "cache-control": "no-cache", "x-content-type-options": "nosniff" }).sendFile(D3_HIERARCHY);
      });
      router.get(`${GODMODE_PATH}/stream`, (req, res) => {
        const { session } = guard.sessionOf(req);
        res.status(200).set({ "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" });
        res.flushHeaders();
        streams.add(res);
        const stop = feed.subscribe((snapshot) => res.write(`event: memory\ndata: ${JSON.stringify(snapshot)}\n\n`));
        const expiry = setTimeout(() => {
          res.write(`event: expired\ndata: {}\n\n`);
          res.end();
        }, Math.max(0, session.expiresAt - Date.now()));
        expiry.unref();
        res.on("close", () => {
          clearTimeout(expiry);
          stop();
          streams.delete(res);
        });
      });
      return router;
    },
    close() {
      feed.close();
      for (const res of streams) res.end();
      streams.clear();
    },
  };
}
