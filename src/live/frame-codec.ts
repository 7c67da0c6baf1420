import type { ErrorCode } from "../http/errors.ts";
import type { FieldError } from "../schemas/schema-registry.ts";

/** A frame the hub sends, before it is encoded for a connection's subprotocol. */
export type ServerFrame =
  | { type: "subscribed"; ref?: string; channel: string; offset: number; epoch: string; recovered: boolean }
  /** `dataJson` is the publication's `data` as JSON text, built once for every subscriber. */
  | { type: "publication"; channel: string; offset: number; dataJson: string }
  | { type: "ack"; ref?: string; offset: number }
  | { type: "error"; ref?: string; code: ErrorCode; detail: string; errors?: FieldError[] }
  | { type: "pong"; ref?: string };

/** What a client sent, as the JSON object the client-frame schema validates, or why it is unreadable. */
export type DecodedFrame = { frame: unknown } | { refused: { code: ErrorCode; detail: string; errors?: FieldError[] } };

/** One subprotocol of the live gateway: how its client frames are read and its server frames written. */
export interface FrameCodec {
  /** The `Sec-WebSocket-Protocol` it answers to. */
  readonly subprotocol: string;
  /** Its index among the gateway's codecs: where a publication keeps its frame in this encoding. */
  readonly slot: number;
  decode(raw: Buffer, isBinary: boolean): DecodedFrame;
  /** A text frame (string) or a binary one (Uint8Array). */
  encode(frame: ServerFrame): string | Uint8Array;
}
