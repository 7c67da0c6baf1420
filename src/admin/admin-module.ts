import { join } from "node:path";
import express, { type Response, type Router } from "express";
import type { Redis } from "ioredis";
import type { Auth } from "../http/auth.ts";
import type { HubModule } from "../hub-module.ts";
import { createAdminGuard, type AdminGuard } from "./admin-guard.ts";
import { createAdminSessionStore } from "./admin-session-store.ts";
import { hiddenRouter } from "./hidden-router.ts";
import { SIGN_IN_FORM_PATHS, signInPage, signInRoutes } from "./sign-in-routes.ts";

export interface AdminModuleOptions {
  auth: Auth;
  /** Where admin sessions live (commands are bounded: a Redis outage answers 503, not a hang). */
  redis: Redis;
  redisPrefix: string;
  sessionTtlSeconds: number;
  /** `clients/`: the admin pages' static files are in `clients/admin/`. */
  clientsDir: string;
  /** More admin-only pages (bull-board, /godmode), mounted behind the session; each gets the guard. */
  pages?: readonly { prefix: string; router: (guard: AdminGuard) => Router; close?: () => void }[];
}

export interface AdminModule extends HubModule {
  /** Paths that take HTML form bodies: the http app parses them (jsonBody `formPaths`). */
  readonly formPaths: readonly string[];
}

/**
 * Browser sign-in for admins (`/admin`), and the pages behind it. API clients keep their bearer
 * keys; a browser exchanges an admin key once for a session cookie (docs/operations.md).
 */
export function createAdminModule(options: AdminModuleOptions): AdminModule {
  const store = createAdminSessionStore({ redis: options.redis, prefix: options.redisPrefix, ttlSeconds: options.sessionTtlSeconds });
  const guard = createAdminGuard({ store, auth: options.auth });
  const router = signInRoutes({ auth: options.auth, store, guard });

  const pages = signInPage(guard);
  pages.use("/admin/assets", express.static(join(options.clientsDir, "admin"), { index: false, setHeaders: assetHeaders }));
  const prefixes = ["/admin"];
  for (const page of options.pages ?? []) {
    pages.use(page.router(guard));
    prefixes.push(page.prefix);
  }
  router.use(hiddenRouter(pages, prefixes));
  return {
    name: "admin",
    router,
    formPaths: SIGN_IN_FORM_PATHS,
    async close() {
      for (const page of options.pages ?? []) page.close?.();
    },
  };
}

function assetHeaders(res: Response): void {
  res.setHeader("x-content-type-options", "nosniff");
  res.setHeader("cache-control", "no-cache");
}
