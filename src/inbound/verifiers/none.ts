import type { NoneSettings } from "../inbound-source.ts";
import type { Verifier } from "./verifier.ts";

/** No check at all: only with `dangerouslyUnverified: true` (the schema insists), e.g. behind a private network. */
export const noneVerifier: Verifier<NoneSettings> = {
  verify: () => ({}),
};
