import protobuf from "protobufjs";
import type { FrameCodec, ServerFrame } from "./frame-codec.ts";

export const PROTO_SUBPROTOCOL = "kefu.v1.proto";

/** A uint64 as protobufjs decodes it: a Long (long.js is its dependency), or a number without it. */
type Uint64 = number | { toNumber(): number };

/**
 * `kefu.v1.proto`: one `ClientFrame` / `ServerFrame` of schemas/live/live.proto per binary frame.
 * The .proto is loaded once here (protobufjs compiles encoders from it), so there is no generated
 * code to keep in step and no build step. A decoded client frame is turned into the JSON object of
 * kefu.v1.json (`{type, ref?, …fields}`), so that the gateway validates both the same way.
 */
export function createProtoCodec(protoFile: string, slot: number): FrameCodec {
  const root = protobuf.loadSync(protoFile);
  const client = root.lookupType("kefu.live.v1.ClientFrame");
  const server = root.lookupType("kefu.live.v1.ServerFrame");
  const frameOneof = client.oneofs["frame"];
  if (!frameOneof) throw new Error(`${protoFile}: ClientFrame has no oneof frame`);
  const frameTypes = new Set(frameOneof.oneof);

  return {
    subprotocol: PROTO_SUBPROTOCOL,
    slot,
    decode(raw, isBinary) {
      if (!isBinary) return { refused: { code: "unsupported_media_type", detail: "frames of kefu.v1.proto are binary (a ClientFrame each)" } };
      let message: protobuf.Message & Record<string, unknown>;
      try {
        message = client.decode(raw);
      } catch (error) {
        return { refused: { code: "validation_failed", detail: `the frame is not a kefu.v1.proto ClientFrame: ${(error as Error).message}`, errors: [{ pointer: "", message: "is not a ClientFrame" }] } };
      }
      // protobufjs skips fields it does not know; the JSON schema refuses them (additionalProperties).
      // A frame that re-encodes shorter held such fields (or one field twice): refused the same way.
      if (client.encode(message).len !== raw.length) {
        return { refused: { code: "validation_failed", detail: "the frame holds fields kefu.v1.proto does not define (or one field twice)", errors: [{ pointer: "", message: "has fields the schema does not define" }] } };
      }
      if ([...frameTypes].filter((type) => message[type] != null).length > 1) {
        return { refused: { code: "validation_failed", detail: "a ClientFrame carries one frame; this one sets several of its oneof", errors: [{ pointer: "/type", message: "is set more than once" }] } };
      }
      return { frame: toJsonShape(message, frameTypes) };
    },
    encode(frame) {
      return server.encode(toServerMessage(frame)).finish();
    },
  };
}

/** `{ref, message: {sessionId, …}}` → `{type: "message", ref, sessionId, …}`; only fields present on the wire. */
function toJsonShape(message: Record<string, unknown>, frameTypes: ReadonlySet<string>): Record<string, unknown> {
  const type = message["frame"];
  const shape: Record<string, unknown> = {};
  // An unset oneof leaves `type` out: the gateway answers it as a frame of no known type.
  if (typeof type === "string" && frameTypes.has(type)) shape["type"] = type;
  if (message["ref"] != null) shape["ref"] = message["ref"];
  const body = typeof type === "string" ? (message[type] as Record<string, unknown> | null | undefined) : undefined;
  // Decoded fields are own properties; defaults live on the prototype.
  for (const [field, value] of Object.entries(body ?? {})) {
    if (value == null) continue;
    shape[field] = typeof value === "object" && "toNumber" in value ? (value as Exclude<Uint64, number>).toNumber() : value;
  }
  return shape;
}

function toServerMessage(frame: ServerFrame): Record<string, unknown> {
  const ref = "ref" in frame && frame.ref !== undefined ? { ref: frame.ref } : {};
  switch (frame.type) {
    case "subscribed":
      return { ...ref, subscribed: { channel: frame.channel, offset: frame.offset, epoch: frame.epoch, recovered: frame.recovered } };
    case "publication":
      return { publication: { channel: frame.channel, offset: frame.offset, data: Buffer.from(frame.dataJson) } };
    case "ack":
      return { ...ref, ack: { offset: frame.offset } };
    case "error":
      return { ...ref, error: { code: frame.code, detail: frame.detail, errors: frame.errors ?? [] } };
    case "pong":
      return { ...ref, pong: {} };
  }
}
