import type { WebSocket } from "ws";
import type { ValidateFunction } from "ajv";
import { isHubError, type ErrorCode } from "../http/errors.ts";
import { toFieldErrors, type FieldError } from "../schemas/schema-registry.ts";
import type { ChannelHistory } from "./channel-history.ts";
import { mayAccess, parseChannel } from "./channels.ts";
import type { FrameCodec, ServerFrame } from "./frame-codec.ts";
import type { LocalFanout } from "./local-fanout.ts";
import type { PostedMessage } from "./live-messages.ts";
import type { LivePrincipal } from "./live-token.ts";

export const CLIENT_FRAME_TYPES = ["subscribe", "unsubscribe", "message", "typing", "read", "ping"] as const;
export type ClientFrameType = (typeof CLIENT_FRAME_TYPES)[number];

/** What a connection needs of the rest of the hub (src/live/live-module.ts wires it). */
export interface ConnectionPorts {
  history: ChannelHistory;
  fanout: LocalFanout;
  validators: Readonly<Record<ClientFrameType, ValidateFunction>>;
  /** The session's current context JSON with its version, when it is open. */
  openSession(sessionId: string): { version: number; body: Buffer } | undefined;
  /** Appends the message to the session's history at once; ingests it as chat.message.created when asked. */
  postMessage(principal: LivePrincipal, frame: { sessionId: string; text: string; clientMessageId: string }): PostedMessage;
}

export interface ConnectionLimits {
  maxFrameBytes: number;
  maxBufferBytes: number;
  slowCloseMs: number;
  /** Bad frames tolerated before the connection is closed with 1008. @defaultValue 20 */
  maxBadFrames?: number;
  /** Told of each connection closed as a slow consumer (a metric). */
  onSlowClose?: () => void;
}

type Frame = { type: ClientFrameType; ref?: string } & Record<string, unknown>;

/** One client's connection: its frames in order (in its subprotocol's encoding), its subscriptions, its bounded send buffer. */
export function handleConnection(socket: WebSocket, principal: LivePrincipal, codec: FrameCodec, ports: ConnectionPorts, limits: ConnectionLimits): { close(code: number, reason: string): void } {
  const subscriptions = new Map<string, () => void>();
  let badFrames = 0;
  let slowSince = 0;
  let queue: Promise<void> = Promise.resolve();
  // The events of this connection's messages, ingested one after another in the frames' order.
  let ingests: Promise<void> = Promise.resolve();

  const send = (frame: string | Uint8Array, volatile = false): void => {
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > limits.maxBufferBytes) {
      const now = Date.now();
      slowSince ||= now;
      if (now - slowSince > limits.slowCloseMs) {
        // The close frame waits behind the full buffer, which a stalled peer never drains: cut it soon after.
        socket.close(4008, "slow consumer");
        limits.onSlowClose?.();
        setTimeout(() => socket.terminate(), 1000).unref();
        return;
      }
      // Volatile frames are the first to go; messages are never dropped.
      if (volatile) return;
    } else slowSince = 0;
    socket.send(frame);
  };
  const reply = (frame: ServerFrame): void => send(codec.encode(frame));
  const fail = (ref: string | undefined, code: ErrorCode, detail: string, errors?: FieldError[]): void => {
    reply({ type: "error", ...(ref !== undefined ? { ref } : {}), code, detail, ...(errors ? { errors } : {}) });
  };
  const failOn = (ref: string | undefined, error: unknown): void => {
    const code: ErrorCode = isHubError(error) ? error.code : "unavailable";
    fail(ref, code, isHubError(error) ? error.message : "the hub could not carry this out now (Redis did not answer); retry it");
  };
  const badFrame = (ref: string | undefined, code: ErrorCode, detail: string, errors?: FieldError[]): void => {
    fail(ref, code, detail, errors);
    if (++badFrames >= (limits.maxBadFrames ?? 20)) socket.close(1008, "too many bad frames");
  };

  const session = (ref: string | undefined, sessionId: string): boolean => {
    if (principal.role === "visitor" && !principal.sessions.includes(sessionId)) return void badFrame(ref, "forbidden", `this token may not touch session ${sessionId}`), false;
    if (!ports.openSession(sessionId)) return void badFrame(ref, "conflict", `session ${sessionId} is not open (unknown or closed)`), false;
    return true;
  };

  const subscribe = async (ref: string | undefined, name: string, since: number | undefined): Promise<void> => {
    const channel = parseChannel(name);
    if (!channel || !mayAccess(principal, channel)) return badFrame(ref, "forbidden", `this token may not subscribe to ${name}`);
    subscriptions.get(name)?.();
    // Listen first and hold what arrives, so that nothing published during the replay is missed.
    const held: { offset: number; frame: string | Uint8Array; volatile: boolean }[] = [];
    let live = false;
    let last = 0;
    const stop = ports.fanout.listen(name, (frames) => {
      const { publication } = frames;
      const frame = frames.in(codec);
      const volatile = publication.dataJson.startsWith('{"kind":"typing"') || publication.dataJson.startsWith('{"kind":"context"');
      if (!live) return void held.push({ offset: publication.offset, frame, volatile });
      if (volatile || publication.offset > last) {
        if (!volatile) last = publication.offset;
        send(frame, volatile);
      }
    });
    subscriptions.set(name, stop);
    const replay = await ports.history.replay(name, since);
    reply({ type: "subscribed", ...(ref !== undefined ? { ref } : {}), channel: name, offset: replay.offset, epoch: replay.epoch, recovered: replay.recovered });
    last = since ?? replay.offset;
    for (const publication of replay.publications) {
      send(codec.encode({ type: "publication", ...publication }));
      last = Math.max(last, publication.offset);
    }
    if (channel.kind === "session") {
      const context = ports.openSession(channel.id);
      if (context) send(codec.encode({ type: "publication", channel: name, offset: replay.offset, dataJson: `{"kind":"context","version":${context.version},"context":${context.body.toString()}}` }));
    }
    for (const item of held) {
      if (item.volatile || item.offset > last) {
        if (!item.volatile) last = item.offset;
        send(item.frame, item.volatile);
      }
    }
    live = true;
  };

  const handle = async (frame: Frame): Promise<void> => {
    const { ref } = frame;
    switch (frame.type) {
      case "ping":
        return reply({ type: "pong", ...(ref !== undefined ? { ref } : {}) });
      case "subscribe":
        return subscribe(ref, frame["channel"] as string, frame["since"] as number | undefined);
      case "unsubscribe": {
        const name = frame["channel"] as string;
        subscriptions.get(name)?.();
        subscriptions.delete(name);
        return;
      }
      case "message": {
        const sessionId = frame["sessionId"] as string;
        if (!session(ref, sessionId)) return;
        const posted = ports.postMessage(principal, { sessionId, text: frame["text"] as string, clientMessageId: frame["clientMessageId"] as string });
        const ingested = ingests.then(() => posted.ingest());
        ingests = ingested.catch(() => undefined);
        // One answer, once both halves are done; a resend finishes whichever failed.
        void Promise.all([posted.published, ingested]).then(([{ offset }]) => reply({ type: "ack", ...(ref !== undefined ? { ref } : {}), offset }), (error: unknown) => failOn(ref, error));
        // The next frame waits for this append only (offsets follow the frames' order), not for the ingest.
        return void (await posted.published.catch(() => undefined));
      }
      case "typing": {
        const sessionId = frame["sessionId"] as string;
        if (!session(ref, sessionId)) return;
        await ports.history.publish(`session:${sessionId}`, JSON.stringify({ kind: "typing", from: { role: principal.role, id: principal.id } }), { volatile: true });
        return;
      }
      case "read": {
        const sessionId = frame["sessionId"] as string;
        if (!session(ref, sessionId)) return;
        const { offset } = await ports.history.publish(`session:${sessionId}`, JSON.stringify({ kind: "read", offset: frame["offset"], from: { role: principal.role, id: principal.id } }));
        return reply({ type: "ack", ...(ref !== undefined ? { ref } : {}), offset });
      }
    }
  };

  const receive = (raw: Buffer, isBinary: boolean): void => {
    if (raw.length > limits.maxFrameBytes) return badFrame(undefined, "payload_too_large", `a frame may be at most ${limits.maxFrameBytes} bytes`);
    const decoded = codec.decode(raw, isBinary);
    if ("refused" in decoded) return badFrame(undefined, decoded.refused.code, decoded.refused.detail, decoded.refused.errors);
    // From here on, both subprotocols' frames are the same JSON object, validated by the same schema.
    const { frame } = decoded;
    const type = (frame as { type?: unknown } | null)?.type;
    const ref = (frame as { ref?: unknown } | null)?.ref;
    const refText = typeof ref === "string" ? ref : undefined;
    if (typeof type !== "string" || !(CLIENT_FRAME_TYPES as readonly string[]).includes(type)) {
      return badFrame(refText, "validation_failed", `unknown frame type ${JSON.stringify(type)}; one of ${CLIENT_FRAME_TYPES.join(", ")}`, [{ pointer: "/type", message: "is not a frame type" }]);
    }
    const validate = ports.validators[type as ClientFrameType];
    if (!validate(frame)) return badFrame(refText, "validation_failed", `the ${type} frame is invalid`, toFieldErrors(validate.errors).slice(0, 20));
    queue = queue.then(() => handle(frame as Frame)).catch((error: unknown) => failOn(refText, error));
  };

  socket.on("message", receive);
  socket.on("close", () => {
    for (const stop of subscriptions.values()) stop();
    subscriptions.clear();
  });
  return { close: (code, reason) => socket.close(code, reason) };
}
