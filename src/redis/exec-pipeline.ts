import type { ChainableCommander } from "ioredis";

/** Runs a pipeline and throws the first command error (ioredis reports them per command, silently). */
export async function execPipeline(pipeline: ChainableCommander): Promise<unknown[]> {
  const results = (await pipeline.exec()) ?? [];
  for (const [error] of results) if (error) throw error;
  return results.map(([, value]) => value);
}
