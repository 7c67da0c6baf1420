import { resolve } from "node:path";

export interface HubPaths {
  root: string;
  schemas: string;
  openapi: string;
  /** `clients/`: the browser client and the demo console pages. */
  clients: string;
}

/** Where the hub's own files are, relative to the installed source rather than the working directory. */
export function hubPaths(root = resolve(import.meta.dirname, "..")): HubPaths {
  return { root, schemas: resolve(root, "schemas"), openapi: resolve(root, "openapi/openapi.yaml"), clients: resolve(root, "clients") };
}
