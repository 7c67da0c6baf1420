import type { SessionMirror } from "./session-mirror.ts";

const TICK_MS = 250;
/** Packs per tick, at ~25 µs each: ~5 ms of the event loop at most, four times a second. */
const MAX_PACKS_PER_TICK = 200;

/**
 * Packs the mirror's idle sessions in the background (session-mirror.ts `packIdle`). A pass over
 * every session takes `idleSeconds / 2`, and a read gives a session a second chance, so a
 * session is packed between half of `idleSeconds` and `idleSeconds` after it was last read.
 * Answers the function that stops it.
 */
export function startIdlePacking(mirror: SessionMirror, idleSeconds: number): () => void {
  const ticksPerPass = Math.max(1, (idleSeconds * 1000) / 2 / TICK_MS);
  const timer = setInterval(() => mirror.packIdle(Math.max(100, Math.ceil(mirror.size() / ticksPerPass)), MAX_PACKS_PER_TICK), TICK_MS);
  timer.unref();
  return () => clearInterval(timer);
}
