// @bufbuild/protobuf on the same frames, for bench/live.ts's codec phase, when it is installed
// (it is not a dependency: protobufjs was chosen by this measurement). Its generated code embeds
// the file descriptor; here protobufjs writes that descriptor from schemas/live/live.proto, so
// both libraries read the one .proto, and bufbuild runs as its generated code would.
import { pathToFileURL } from "node:url";
import protobuf from "protobufjs";
import "protobufjs/ext/descriptor.js";
import type { ServerFrame } from "../../src/live/frame-codec.ts";

export interface Coder {
  name: string;
  /** Encodes on the hub, decodes on the client (data parsed); answers the frame's bytes. */
  server(frame: ServerFrame): number;
  /** Encodes on the client, decodes on the hub; answers the frame's bytes. */
  client(frame: Record<string, unknown>): number;
}

interface Bufbuild {
  create(schema: unknown, init: unknown): unknown;
  toBinary(schema: unknown, message: unknown): Uint8Array;
  fromBinary(schema: unknown, bytes: Uint8Array): { frame: { case?: string; value?: { data?: Uint8Array } } };
  createFileRegistry(set: unknown): { getMessage(name: string): unknown };
}
interface FileSet { file: { package: string; messageType: { field: { typeName?: string }[] }[] }[] }

export async function bufbuildCoder(protoFile: string): Promise<Coder | undefined> {
  let lib: Bufbuild;
  let wkt: { FileDescriptorSetSchema: unknown };
  // Installed beside the hub, or anywhere else (BENCH_BUFBUILD_PATH: the package's folder), so
  // that measuring it needs no change to the hub's node_modules.
  const elsewhere = process.env["BENCH_BUFBUILD_PATH"];
  const [main, wktPath] = elsewhere ? [pathToFileURL(`${elsewhere}/dist/esm/index.js`).href, pathToFileURL(`${elsewhere}/dist/esm/wkt/index.js`).href] : ["@bufbuild/protobuf", "@bufbuild/protobuf/wkt"];
  try {
    lib = (await import(main)) as Bufbuild;
    wkt = (await import(wktPath)) as typeof wkt;
  } catch {
    return undefined;
  }
  const root = protobuf.loadSync(protoFile);
  const descriptor = root.toDescriptor("proto3");
  const set = lib.fromBinary(wkt.FileDescriptorSetSchema, (descriptor.constructor as unknown as { encode(m: unknown): { finish(): Uint8Array } }).encode(descriptor).finish()) as unknown as FileSet;
  // protobufjs writes type names relative to the package; descriptors want them fully qualified.
  for (const file of set.file) for (const type of file.messageType) for (const field of type.field) if (field.typeName && !field.typeName.startsWith(".")) field.typeName = `.${file.package}.${field.typeName}`;
  const registry = lib.createFileRegistry(set);
  const server = registry.getMessage("kefu.live.v1.ServerFrame");
  const client = registry.getMessage("kefu.live.v1.ClientFrame");
  const big = (value: unknown): unknown => (typeof value === "number" ? BigInt(value) : value);
  return {
    name: "@bufbuild/protobuf",
    server(frame) {
      const { type, ...rest } = frame;
      const ref = "ref" in rest ? rest.ref : undefined;
      const value: Record<string, unknown> = Object.fromEntries(Object.entries(rest).filter(([k]) => k !== "ref" && k !== "dataJson").map(([k, v]) => [k, big(v)]));
      if (frame.type === "publication") value["data"] = Buffer.from(frame.dataJson);
      const bytes = lib.toBinary(server, lib.create(server, { ...(ref !== undefined ? { ref } : {}), frame: { case: type, value } }));
      const decoded = lib.fromBinary(server, bytes);
      if (decoded.frame.value?.data) JSON.parse(Buffer.from(decoded.frame.value.data).toString());
      return bytes.length;
    },
    client({ type, ref, ...fields }) {
      const value = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, big(v)]));
      const bytes = lib.toBinary(client, lib.create(client, { ...(ref !== undefined ? { ref } : {}), frame: { case: type, value } }));
      lib.fromBinary(client, bytes);
      return bytes.length;
    },
  };
}
