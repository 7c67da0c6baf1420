import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import type { FrameCodec } from "../../src/live/frame-codec.ts";
import { jsonCodec } from "../../src/live/json-codec.ts";
import { createProtoCodec } from "../../src/live/proto-codec.ts";
import { publicationFrames } from "../../src/live/publication-frames.ts";

/** The codec, counting how often it encodes. */
function counted(codec: FrameCodec): FrameCodec & { encoded: number } {
  const wrapper = { ...codec, encoded: 0, encode: (frame: Parameters<FrameCodec["encode"]>[0]) => (wrapper.encoded++, codec.encode(frame)) };
  return wrapper;
}

test("a publication is encoded once per subprotocol, however many connections take it", () => {
  const json = counted(jsonCodec);
  const proto = counted(createProtoCodec(fileURLToPath(new URL("../../schemas/live/live.proto", import.meta.url)), 1));
  const frames = publicationFrames({ channel: "session:S-1", offset: 7, dataJson: '{"kind":"typing","from":{"role":"visitor","id":"C-1"}}' });
  const sent = Array.from({ length: 2000 }, (_, i) => frames.in(i % 3 === 0 ? proto : json));
  assert.equal(json.encoded, 1);
  assert.equal(proto.encoded, 1);
  assert.equal(sent[1], '{"type":"publication","channel":"session:S-1","offset":7,"data":{"kind":"typing","from":{"role":"visitor","id":"C-1"}}}');
  assert.ok(sent[0] instanceof Uint8Array);
  assert.equal(sent[0], sent[3], "every proto connection gets the very same bytes");
});
