// kefu-live.js — a browser client of kefu-hub's live protocol (docs/live.md, "Browser client").
// One ES module, no build step, no dependencies: copy it into your frontend as it is.
//
//   import { KefuLive } from "./kefu-live.js";
//   const live = new KefuLive({ url: "wss://hub.example/v1/live", token: () => fetchTokenFromYourBackend() });
//   live.subscribe("session:S-1", (publication) => render(publication), { since: 0, onReset: () => refetch() });
//   await live.sendMessage("S-1", "hello");
//
// What it does for you: reconnects with exponential backoff (at once after close code 1012, a hub
// restart); resubscribes every channel with `since` = the last offset it delivered, so nothing
// published meanwhile is missed; drops publications it already delivered, so nothing is doubled;
// resends a message until the hub acks it (the same clientMessageId, which the hub stores once);
// tells you through `onReset` when the hub could not replay (recovered: false) or the channel's
// epoch changed, so that you refetch GET /v1/sessions/{id}/messages.

/** The subprotocol of the JSON frames. */
export const SUBPROTOCOL = "kefu.v1.json";

/** Kinds that are not part of a channel's offset sequence: never stored, never deduplicated. */
const VOLATILE_KINDS = new Set(["typing", "context"]);

/** Error codes after which resending a message cannot succeed (docs/errors.md). */
const PERMANENT_CODES = new Set(["forbidden", "conflict", "validation_failed", "payload_too_large", "unauthorized"]);

/**
 * @typedef {object} Publication
 * @property {string} channel  e.g. `session:S-1`
 * @property {number} offset   the channel's offset; for `typing` and `context` the channel's current one
 * @property {{kind: string} & Record<string, unknown>} data  `kind`: message, context, assignment, typing, read or closed
 */

/**
 * @typedef {object} ResetInfo
 * @property {"history" | "epoch"} reason  `history`: the hub's history no longer reaches back to
 *   what this client saw (`recovered: false`); `epoch`: the channel's history was lost and its
 *   offsets started again.
 * @property {number} offset  the channel's latest offset now; publications after it follow live
 * @property {string} epoch
 */

/**
 * @typedef {object} SubscribeOptions
 * @property {number} [since]  replay what came after this offset on the first subscribe (0: the
 *   whole kept history). Without it only new publications arrive.
 * @property {(info: ResetInfo) => void} [onReset]  publications were missed and cannot be
 *   replayed: refetch the history (GET /v1/sessions/{id}/messages) and merge it by offset.
 * @property {(frame: {channel: string, offset: number, epoch: string, recovered: boolean}) => void} [onSubscribed]
 */

/**
 * @typedef {object} KefuLiveOptions
 * @property {string} url  the gateway, e.g. `wss://hub.example/v1/live`
 * @property {string | (() => string | Promise<string>)} token  a live token (POST /v1/live/tokens
 *   issues it, from your backend), or a function called before every connect, so that a reconnect
 *   after the token expired gets a fresh one
 * @property {number} [initialBackoffMs]  first reconnect delay. @defaultValue 500
 * @property {number} [maxBackoffMs]  the delay doubles per failed attempt up to this. @defaultValue 15000
 * @property {number} [ackTimeoutMs]  a message not acked this long after it was sent is sent again. @defaultValue 5000
 * @property {number} [heartbeatMs]  a `ping` this often; no `pong` within it closes the socket and
 *   reconnects (browsers cannot see WebSocket-level pings, so a dead network shows only this way). @defaultValue 20000
 * @property {number} [typingThrottleMs]  at most one typing frame per session this often. @defaultValue 2000
 * @property {(state: "connecting" | "open" | "closed", detail?: {code?: number, reason?: string, retryInMs?: number}) => void} [onStatus]
 * @property {(error: {code: string, detail: string, ref?: string}) => void} [onError]  error frames not answering a message
 * @property {typeof WebSocket} [WebSocketImpl]  @defaultValue globalThis.WebSocket
 */

/** A live connection to kefu-hub that survives reconnects. */
export class KefuLive {
  /** @param {KefuLiveOptions} options */
  constructor(options) {
    this.options = { initialBackoffMs: 500, maxBackoffMs: 15_000, ackTimeoutMs: 5000, heartbeatMs: 20_000, typingThrottleMs: 2000, ...options };
    /** @type {Map<string, {handler: (p: Publication) => void, options: SubscribeOptions, lastOffset: number | undefined, epoch: string | undefined}>} */
    this.channels = new Map();
    /** @type {Map<string, {frame: object, sentAt: number, resolve: (a: {offset: number, clientMessageId: string}) => void, reject: (e: Error) => void}>} */
    this.outbox = new Map();
    /** @type {Map<string, number>} */
    this.typingSentAt = new Map();
    /** @type {WebSocket | undefined} */
    this.socket = undefined;
    this.state = "closed";
    this.attempt = 0;
    this.stopped = true;
    this.timers = { reconnect: 0, heartbeat: 0, resend: 0 };
    this.awaitingPong = false;
    this.onOnline = () => {
      if (this.state === "closed" && !this.stopped) this.reconnectNow();
    };
  }

  /** Opens the connection (and keeps it open until {@link KefuLive#close}). */
  connect() {
    this.stopped = false;
    globalThis.addEventListener?.("online", this.onOnline);
    this.timers.resend = setInterval(() => this.resendOverdue(), Math.max(250, this.options.ackTimeoutMs / 4));
    void this.open();
  }

  /** Closes the connection for good; pending messages are rejected. */
  close() {
    this.stopped = true;
    globalThis.removeEventListener?.("online", this.onOnline);
    clearTimeout(this.timers.reconnect);
    clearInterval(this.timers.heartbeat);
    clearInterval(this.timers.resend);
    this.socket?.close(1000, "client closed");
    for (const pending of this.outbox.values()) pending.reject(new Error("the client was closed"));
    this.outbox.clear();
  }

  /**
   * Joins a channel (`session:{id}`, `agent:{id}`, `queue:{name}`), now and after every reconnect.
   * Each publication reaches `onPublication` once, in offset order.
   * @param {string} channel
   * @param {(publication: Publication) => void} onPublication
   * @param {SubscribeOptions} [options]
   * @returns {() => void} unsubscribes
   */
  subscribe(channel, onPublication, options = {}) {
    this.channels.set(channel, { handler: onPublication, options, lastOffset: options.since, epoch: undefined });
    if (this.state === "open") this.sendSubscribe(channel);
    return () => {
      this.channels.delete(channel);
      this.sendFrame({ type: "unsubscribe", channel });
    };
  }

  /**
   * Posts a chat message. It is sent again (same clientMessageId) after a reconnect or when not
   * acked within `ackTimeoutMs`, until the hub acks it; the hub stores it once.
   * @param {string} sessionId
   * @param {string} text
   * @param {{clientMessageId?: string}} [options]  give your own id to resend across page reloads
   * @returns {Promise<{offset: number, clientMessageId: string}>} the offset it was stored with;
   *   rejects on an error that resending cannot fix (forbidden, closed session, invalid)
   */
  sendMessage(sessionId, text, { clientMessageId = newId() } = {}) {
    return new Promise((resolve, reject) => {
      const frame = { type: "message", sessionId, text, clientMessageId, ref: `m:${clientMessageId}` };
      this.outbox.set(frame.ref, { frame, sentAt: 0, resolve, reject });
      if (this.state === "open") this.sendPending(frame.ref);
    });
  }

  /** Tells the session that this side is typing (volatile; throttled; dropped while offline). @param {string} sessionId */
  typing(sessionId) {
    const now = Date.now();
    if (this.state !== "open" || now - (this.typingSentAt.get(sessionId) ?? 0) < this.options.typingThrottleMs) return;
    this.typingSentAt.set(sessionId, now);
    this.sendFrame({ type: "typing", sessionId });
  }

  /** A read receipt up to `offset`, published to the session. @param {string} sessionId @param {number} offset */
  read(sessionId, offset) {
    this.sendFrame({ type: "read", sessionId, offset });
  }

  /** Messages sent and not yet acked. */
  get pendingCount() {
    return this.outbox.size;
  }

  // --- internals -----------------------------------------------------------------------------

  async open() {
    if (this.stopped) return;
    this.setState("connecting");
    let token;
    try {
      token = typeof this.options.token === "function" ? await this.options.token() : this.options.token;
    } catch (error) {
      return this.scheduleReconnect({ reason: `no token: ${String(error)}` });
    }
    if (this.stopped) return;
    const url = new URL(this.options.url, globalThis.location?.href);
    url.protocol = url.protocol.replace(/^http/, "ws");
    url.searchParams.set("token", token);
    const Impl = this.options.WebSocketImpl ?? globalThis.WebSocket;
    let socket;
    try {
      socket = new Impl(url.href, SUBPROTOCOL);
    } catch (error) {
      return this.scheduleReconnect({ reason: `cannot open ${this.options.url}: ${String(error)}` });
    }
    this.socket = socket;
    socket.onopen = () => {
      if (socket !== this.socket) return;
      this.attempt = 0;
      this.setState("open");
      this.startHeartbeat();
      for (const channel of this.channels.keys()) this.sendSubscribe(channel);
      for (const ref of this.outbox.keys()) this.sendPending(ref);
    };
    socket.onmessage = (event) => {
      if (socket === this.socket) this.receive(event.data);
    };
    socket.onclose = (event) => {
      if (socket !== this.socket) return;
      this.socket = undefined;
      clearInterval(this.timers.heartbeat);
      // 1012: the hub is restarting (draining); another instance takes us at once.
      if (event.code === 1012) return this.reconnectNow({ code: event.code, reason: event.reason });
      this.scheduleReconnect({ code: event.code, reason: event.reason });
    };
  }

  /** Drops the current socket (as a network failure would) and reconnects at once. */
  reconnectNow(detail = {}) {
    clearTimeout(this.timers.reconnect);
    const socket = this.socket;
    this.socket = undefined;
    socket?.close();
    this.setState("closed", { ...detail, retryInMs: 0 });
    void this.open();
  }

  scheduleReconnect(detail) {
    if (this.stopped) return this.setState("closed", detail);
    const base = Math.min(this.options.maxBackoffMs, this.options.initialBackoffMs * 2 ** this.attempt++);
    const retryInMs = Math.round(base * (0.8 + Math.random() * 0.4));
    this.setState("closed", { ...detail, retryInMs });
    clearTimeout(this.timers.reconnect);
    this.timers.reconnect = setTimeout(() => void this.open(), retryInMs);
  }

  startHeartbeat() {
    this.awaitingPong = false;
    clearInterval(this.timers.heartbeat);
    this.timers.heartbeat = setInterval(() => {
      if (this.awaitingPong) {
        // No pong for a whole interval: the network is gone even if the socket does not know it.
        const socket = this.socket;
        this.socket = undefined;
        socket?.close();
        clearInterval(this.timers.heartbeat);
        return this.scheduleReconnect({ reason: "no pong" });
      }
      this.awaitingPong = true;
      this.sendFrame({ type: "ping" });
    }, this.options.heartbeatMs);
  }

  sendSubscribe(channel) {
    const state = this.channels.get(channel);
    if (!state) return;
    this.sendFrame({ type: "subscribe", channel, ...(state.lastOffset !== undefined ? { since: state.lastOffset } : {}) });
  }

  sendPending(ref) {
    const pending = this.outbox.get(ref);
    if (!pending || !this.sendFrame(pending.frame)) return;
    pending.sentAt = Date.now();
  }

  resendOverdue() {
    if (this.state !== "open") return;
    const now = Date.now();
    for (const [ref, pending] of this.outbox) if (now - pending.sentAt >= this.options.ackTimeoutMs) this.sendPending(ref);
  }

  sendFrame(frame) {
    if (this.state !== "open" || this.socket?.readyState !== 1) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  receive(raw) {
    let frame;
    try {
      frame = JSON.parse(String(raw));
    } catch {
      return;
    }
    switch (frame.type) {
      case "pong":
        this.awaitingPong = false;
        return;
      case "subscribed":
        return this.onSubscribed(frame);
      case "publication":
        return this.onPublication(frame);
      case "ack": {
        const pending = this.outbox.get(frame.ref);
        if (!pending) return;
        this.outbox.delete(frame.ref);
        pending.resolve({ offset: frame.offset, clientMessageId: pending.frame.clientMessageId });
        return;
      }
      case "error": {
        const pending = frame.ref === undefined ? undefined : this.outbox.get(frame.ref);
        if (pending && PERMANENT_CODES.has(frame.code)) {
          this.outbox.delete(frame.ref);
          pending.reject(Object.assign(new Error(frame.detail), { code: frame.code }));
        } else if (pending) {
          // e.g. `unavailable` (the hub's Redis is down): the resend timer tries again.
          pending.sentAt = Date.now();
        } else {
          this.options.onError?.(frame);
        }
      }
    }
  }

  onSubscribed(frame) {
    const state = this.channels.get(frame.channel);
    if (!state) return;
    const epochChanged = Boolean(state.epoch && frame.epoch && state.epoch !== frame.epoch) || (state.lastOffset !== undefined && frame.offset < state.lastOffset);
    const known = state.lastOffset;
    state.epoch = frame.epoch || state.epoch;
    state.options.onSubscribed?.(frame);
    if (epochChanged || !frame.recovered) {
      state.lastOffset = frame.offset;
      state.options.onReset?.({ reason: epochChanged ? "epoch" : "history", offset: frame.offset, epoch: frame.epoch });
    } else if (known === undefined) {
      state.lastOffset = frame.offset;
    }
    // Otherwise the replayed publications follow and move lastOffset on.
  }

  onPublication(frame) {
    const state = this.channels.get(frame.channel);
    if (!state) return;
    if (!VOLATILE_KINDS.has(frame.data?.kind)) {
      // Already delivered (a replay overlapping what arrived live): nothing is doubled.
      if (state.lastOffset !== undefined && frame.offset <= state.lastOffset) return;
      state.lastOffset = frame.offset;
    }
    try {
      state.handler(frame);
    } catch (error) {
      console.error("kefu-live: a publication handler threw", error);
    }
  }

  setState(state, detail) {
    this.state = state;
    this.options.onStatus?.(state, detail);
  }
}

/** A random id; crypto.randomUUID needs a secure context, getRandomValues does not. */
function newId() {
  if (globalThis.crypto?.randomUUID && globalThis.isSecureContext) return globalThis.crypto.randomUUID();
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
