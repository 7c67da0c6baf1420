import type { Publication } from "./channel-history.ts";
import type { FrameCodec } from "./frame-codec.ts";

/** A publication with its `publication` frame in each encoding, each built at most once. */
export interface PublicationFrames {
  readonly publication: Publication;
  /** The frame in the codec's encoding: built by the first connection that asks, reused by the rest. */
  in(codec: FrameCodec): string | Uint8Array;
}

/**
 * Fan-out hands one of these to every listener of the channel, so that 2,000 subscribers cost one
 * encoding per subprotocol in use, not 2,000; an encoding nobody on this process uses is never built.
 */
export function publicationFrames(publication: Publication): PublicationFrames {
  const built: (string | Uint8Array | undefined)[] = [];
  return {
    publication,
    in(codec) {
      return (built[codec.slot] ??= codec.encode({ type: "publication", channel: publication.channel, offset: publication.offset, dataJson: publication.dataJson }));
    },
  };
}
