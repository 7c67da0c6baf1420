import { deflateRawSync, inflateRawSync } from "node:zlib";

/**
 * How an open session that nobody reads is kept in memory: its context JSON deflated against a
 * dictionary of the context's own shape, as a latin1 string on the V8 heap. A 1.8 KB context
 * packs to ~160–500 B, which is most of the hub's memory with 100,000 open sessions
 * (bench/memory.ts). A string rather than a Buffer: a small Buffer is a slice of one of Node's
 * shared 64 KB slabs (`Buffer.poolSize` on Node 24), which stays allocated while any slice of it lives.
 * The format never leaves the process, so the dictionary may change between versions.
 */
export interface SessionPacker {
  pack(json: Buffer): string;
  /** `size`: the JSON's byte length, so that zlib writes into a buffer of exactly that size. */
  unpack(packed: string, size: number): Buffer;
}

// The keys and usual values of a context (session-types.ts), in the order it is written: deflate
// finds them here instead of spelling them out in every session.
const DICTIONARY = Buffer.from(
  JSON.stringify({
    sessionId: "S-",
    state: "open",
    channel: "web",
    customer: { id: "C-", name: "", profile: { id: "C-", name: "", tier: "gold", riskLevel: "low", since: "2021-01-01", email: "@example.com", phone: "+86" } },
    orderId: "SO-",
    risk: { level: "low", reasons: ["repeated-payment-failures", "crm-high-risk"] },
    behavior: {
      recent: [
        { id: "bev-", type: "page.viewed", occurredAt: "2026-01-01T00:00:00.000Z", data: { url: "https://shop.example/products/" } },
        { id: "bev-", type: "cart.updated", occurredAt: "2026-01-01T00:00:00.000Z", data: { value: 0 } },
        { id: "bev-", type: "payment.failed", occurredAt: "2026-01-01T00:00:00.000Z", data: { orderId: "SO-", reason: "card_declined", amount: 0 } },
      ],
      counters: { paymentFailed10m: 0, pageViews30m: 0 },
      latest: { lastPage: "/", cartValue: 0 },
    },
    routing: { businessLine: "", queue: "general", agentGroup: "", priority: "normal", tags: [], slaMinutes: 0, matchedRules: [], rulesetVersion: 0, degraded: false },
    openedAt: "2026-01-01T00:00:00.000Z",
    lastMessageAt: null,
    messageCount: 0,
    closedAt: null,
    version: 1,
    updatedAt: "2026-01-01T00:00:00.000Z",
  }),
);

// A 4 KB window holds the dictionary and a usual context (a larger one still packs, its matches
// reaching 4 KB back); with memLevel 5 deflate's state is ~30 KB
// instead of ~260 KB (which glibc maps and unmaps on every call). Output chunks sized to the
// answer, not zlib's 16 KB default: 100,000 sessions loaded at start made gigabytes of garbage,
// and the external memory of it made V8 run full GCs.
const DEFLATE = { dictionary: DICTIONARY, windowBits: 12, memLevel: 5, chunkSize: 1024 };
const INFLATE = { dictionary: DICTIONARY, windowBits: 12 };
// zlib's smallest chunk.
const MIN_CHUNK = 64;

export function createSessionPacker(): SessionPacker {
  return {
    pack: (json) => deflateRawSync(json, DEFLATE).toString("latin1"),
    unpack(packed, size) {
      // Its own allocation, not a slice of Node's 64 KB buffer pool: a long-lived slice keeps its
      // whole slab allocated after the other slices of it are gone.
      const body = Buffer.allocUnsafeSlow(size);
      inflateRawSync(Buffer.from(packed, "latin1"), { ...INFLATE, chunkSize: Math.max(MIN_CHUNK, size) }).copy(body);
      return body;
    },
  };
}
