import type { FrameCodec, ServerFrame } from "./frame-codec.ts";

export const JSON_SUBPROTOCOL = "kefu.v1.json";

/** `kefu.v1.json`: one JSON object per text frame. */
export const jsonCodec: FrameCodec = {
  subprotocol: JSON_SUBPROTOCOL,
  slot: 0,
  decode(raw, isBinary) {
    if (isBinary) return { refused: { code: "unsupported_media_type", detail: "frames of kefu.v1.json are text" } };
    try {
      return { frame: JSON.parse(raw.toString()) as unknown };
    } catch {
      return { refused: { code: "malformed_json", detail: "the frame is not JSON" } };
    }
  },
  encode: encodeJson,
};

/** jsonCodec's `encode`, typed as the text it always is. */
export function encodeJson(frame: ServerFrame): string {
  // A publication's data is JSON already: spliced in, never parsed and stringified again.
  if (frame.type === "publication") return `{"type":"publication","channel":${JSON.stringify(frame.channel)},"offset":${frame.offset},"data":${frame.dataJson}}`;
  return JSON.stringify(frame);
}
