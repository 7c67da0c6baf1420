import type { Logger } from "pino";
import type { Principal } from "./auth.ts";

declare global {
  namespace Express {
    interface Request {
      /** From `x-request-id`, or generated. */
      id: string;
      /** The request's logger: every line carries `reqId`. */
      log: Logger;
      /** Set by the auth middleware. */
      principal?: Principal;
    }
  }
}
