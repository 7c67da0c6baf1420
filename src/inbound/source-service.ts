import { HubError } from "../http/errors.ts";
import { publicView, type InboundSource, type InboundSourceInput } from "./inbound-source.ts";
import type { SourceStore } from "./source-store.ts";
import { settingsProblem } from "./verifiers/index.ts";

/** Source names: what fits a URL segment and a Redis key part without escaping. */
const SOURCE_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export interface SourceService {
  /** Creates or replaces; answers the public view and whether it was created. */
  put(name: string, input: InboundSourceInput): Promise<{ created: boolean; source: Record<string, unknown> }>;
  get(name: string): Promise<Record<string, unknown>>;
  list(): Promise<Record<string, unknown>[]>;
  delete(name: string): Promise<void>;
}

export function checkSourceName(name: string): void {
  if (SOURCE_NAME.test(name)) return;
  const message = "must be 1-64 lowercase letters, digits, `-` or `_`, starting with a letter or digit";
  throw new HubError("validation_failed", `the source name is invalid: it ${message}`, { errors: [{ pointer: "/path/source", message }] });
}

/** PUT/GET/DELETE /v1/inbound-sources/{source}: secrets go in, never out. */
export function createSourceService(store: SourceStore, now: () => number = Date.now): SourceService {
  const require = async (name: string): Promise<InboundSource> => {
    checkSourceName(name);
    const source = await store.get(name);
    if (!source) throw new HubError("not_found", `no inbound source ${name}`);
    return source;
  };
  return {
    async put(name, input) {
      checkSourceName(name);
      const problem = settingsProblem(input.verifier);
      if (problem !== undefined) {
        throw new HubError("validation_failed", `the verifier settings cannot be used: ${problem}`, { errors: [{ pointer: "/verifier", message: problem }] });
      }
      const at = new Date(now()).toISOString();
      const existing = await store.get(name);
      const source: InboundSource = { name, ...input, createdAt: existing?.createdAt ?? at, updatedAt: at };
      await store.save(source);
      return { created: !existing, source: publicView(source) };
    },
    async get(name) {
      return publicView(await require(name));
    },
    async list() {
      return (await store.list()).map(publicView);
    },
    async delete(name) {
      await require(name);
      await store.delete(name);
    },
  };
}
