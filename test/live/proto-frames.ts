// The client side of kefu.v1.proto, written from schemas/live/live.proto as an integrator would
// (proto3: a field at its default value is not on the wire, so `defaults: true` puts it back),
// independently of the hub's codec: frames go in and come out as the JSON objects of kefu.v1.json.
import protobuf from "protobufjs";
import { hubPaths } from "../../src/paths.ts";
import type { Frame } from "./live-client.ts";

const root = protobuf.loadSync(`${hubPaths().schemas}/live/live.proto`);
export const ClientFrame = root.lookupType("kefu.live.v1.ClientFrame");
export const ServerFrame = root.lookupType("kefu.live.v1.ServerFrame");

/** `{type: "message", ref, sessionId, …}` → a ClientFrame's bytes. */
export function protoClientFrame({ type, ref, ...fields }: Record<string, unknown>): Uint8Array {
  return ClientFrame.encode(ClientFrame.fromObject({ ...(ref !== undefined ? { ref } : {}), [String(type)]: fields })).finish();
}

/** A ServerFrame's bytes → `{type, ref?, …fields}`, with `data` parsed from its JSON bytes. */
export function protoServerFrame(bytes: Buffer): Frame {
  const message = ServerFrame.decode(bytes);
  const object = ServerFrame.toObject(message, { longs: Number, oneofs: true, defaults: true }) as Record<string, unknown>;
  const type = String(object["frame"]);
  const body = { ...(object[type] as Record<string, unknown> | undefined) };
  if (body["data"] instanceof Uint8Array) body["data"] = JSON.parse(Buffer.from(body["data"]).toString()) as unknown;
  // Proto has no "absent" for a repeated field; kefu.v1.json leaves an empty `errors` out.
  if (Array.isArray(body["errors"]) && body["errors"].length === 0) delete body["errors"];
  return { type, ...(object["ref"] !== undefined ? { ref: object["ref"] } : {}), ...body };
}
