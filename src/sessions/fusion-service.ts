import type { Logger } from "pino";
import { HubError } from "../http/errors.ts";
import { compileFusion, type Fusion } from "./fusion.ts";
import type { FusionDocument } from "./fusion-document.ts";
import { BUILT_IN_FUSION, type FusionStore, type StoredFusion } from "./fusion-store.ts";

export interface FusionService {
  /** The fusion in force in this process (the built-in default until Redis's is loaded). */
  active(): Fusion;
  current(): Promise<StoredFusion>;
  /** Validates, compiles and stores the document as the new current version; answers it. */
  activate(document: FusionDocument, expected: number | "*", updatedBy: string): Promise<number>;
  /** Brings this instance to Redis's current version. */
  refresh(): Promise<void>;
}

/** The versioned fusion document (GET/PUT /v1/fusion), the same on every instance. */
export function createFusionService(store: FusionStore, logger: Logger): FusionService {
  // -1: even the built-in version 0 counts as newer once Redis is asked.
  let active = { version: -1, fusion: compiled(BUILT_IN_FUSION.document) };

  const refresh = async (): Promise<void> => {
    const current = await store.current();
    if (current.version <= active.version) return;
    active = { version: current.version, fusion: compiled(current.document) };
    logger.info({ version: current.version }, "sessions: fusion document activated");
  };

  return {
    active: () => active.fusion,
    current: () => store.current(),
    async activate(document, expected, updatedBy) {
      const result = compileFusion(document);
      if (!result.fusion) {
        throw new HubError("unprocessable", `the fusion document does not compile: ${result.errors[0]?.message ?? "see errors"}`, {
          errors: result.errors.map(({ pointer, message }) => ({ pointer, message })),
        });
      }
      const outcome = await store.activate(document, expected, updatedBy);
      if (!outcome.ok) {
        throw new HubError("precondition_failed", `the fusion document is at version ${outcome.current}, not ${String(expected)}; fetch it, reapply your change and send If-Match: "${outcome.current}"`);
      }
      await refresh();
      return outcome.version;
    },
    refresh,
  };
}

function compiled(document: FusionDocument): Fusion {
  const result = compileFusion(document);
  if (!result.fusion) throw new Error(`stored fusion document does not compile: ${result.errors.map((e) => e.message).join("; ")}`);
  return result.fusion;
}

