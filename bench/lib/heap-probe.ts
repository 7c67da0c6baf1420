// Child of bench/sessions.ts (phase "heap"), run with --expose-gc: puts `count` realistic open
// sessions into the hub's session mirror (src/sessions/session-mirror.ts) as the start-up load does,
// and reports over IPC the heap and external memory they retain, after full collections.
// argv[2]: count. argv[3]: behaviour events per session.
import { createSessionMirror } from "../../src/sessions/session-mirror.ts";
import { seededSession } from "./session-seed.ts";

const count = Number(process.argv[2] ?? 100_000);
const recentEvents = Number(process.argv[3] ?? 10);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");

const measure = (): NodeJS.MemoryUsage => {
  for (let k = 0; k < 3; k++) gc();
  return process.memoryUsage();
};

const nowMs = Date.now();
seededSession(0, { nowMs, recentEvents }); // the fusion compiled and warm before the first reading
const mirror = createSessionMirror();
const before = measure();
let contextBytes = 0;
let windowsBytes = 0;
for (let i = 0; i < count; i++) {
  const { context, windows, version } = seededSession(i, { nowMs, recentEvents });
  // Strings as they arrive from Redis; the mirror keeps the context as bytes (the windows stay in Redis).
  const contextJson = JSON.stringify(context);
  const windowsJson = JSON.stringify(windows);
  contextBytes += Buffer.byteLength(contextJson);
  windowsBytes += windowsJson.length;
  mirror.put({ sessionId: context.sessionId, customerId: context.customer.id, state: "open", version, body: contextJson });
}
const after = measure();
if (mirror.size() !== count) throw new Error(`the mirror holds ${mirror.size()} sessions, not ${count}`);
process.send?.(
  {
    heapPerSession: (after.heapUsed - before.heapUsed) / count,
    externalPerSession: (after.external - before.external) / count,
    arrayBuffersPerSession: (after.arrayBuffers - before.arrayBuffers) / count,
    rssPerSession: (after.rss - before.rss) / count,
    contextBytes: contextBytes / count,
    windowsBytes: windowsBytes / count,
  },
  () => process.exit(0),
);
