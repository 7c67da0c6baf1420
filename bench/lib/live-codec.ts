// Phase "codec" of bench/live.ts: kefu.v1.json against kefu.v1.proto, frame bytes and CPU per
// frame to encode on one side and decode on the other (as the hub's codecs and a client do it: a
// client parses `data` in both). With @bufbuild/protobuf installed (it is not a dependency:
// `npm install --no-save @bufbuild/protobuf`, or BENCH_BUFBUILD_PATH=<its folder>), it is measured
// too, from the same .proto.
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import { jsonCodec } from "../../src/live/json-codec.ts";
import { createProtoCodec } from "../../src/live/proto-codec.ts";
import type { ServerFrame } from "../../src/live/frame-codec.ts";
import { knob, type LiveBench } from "./live-bench.ts";
import { bufbuildCoder, type Coder } from "./live-codec-bufbuild.ts";
import { formatSpread, printTable, spreadOf, type Spread } from "./run-stats.ts";
import type { Verdict } from "./verdict.ts";

const PROTO_FILE = fileURLToPath(new URL("../../schemas/live/live.proto", import.meta.url));

const dataJson = JSON.stringify({ kind: "message", messageId: "LM-x3GmQe9aQeQ1b2c3d4e5f6", sessionId: "S-demo-1", sender: { type: "customer", id: "C-0001" }, text: "Hi, where is my order SO-100003? It was due yesterday.", clientMessageId: "demo-m1", sentAt: "2026-12-02T09:15:00.000Z" });
const SERVER: Record<string, ServerFrame> = {
  "publication (message)": { type: "publication", channel: "session:S-demo-1", offset: 4242, dataJson },
  "publication (typing)": { type: "publication", channel: "session:S-demo-1", offset: 4242, dataJson: '{"kind":"typing","from":{"role":"visitor","id":"C-0001"}}' },
  subscribed: { type: "subscribed", ref: "s1", channel: "session:S-demo-1", offset: 4242, epoch: "1f3a9c2e", recovered: true },
  ack: { type: "ack", ref: "r17", offset: 4242 },
};
const CLIENT: Record<string, Record<string, unknown>> = {
  "message (client)": { type: "message", ref: "r17", sessionId: "S-demo-1", text: "Hi, where is my order SO-100003? It was due yesterday.", clientMessageId: "demo-m1" },
  "subscribe (client)": { type: "subscribe", ref: "s1", channel: "session:S-demo-1", since: 4241 },
};

/** CPU µs per call of `fn`, over `count` calls after a warm-up. */
function cpuMicros(count: number, fn: () => unknown): number {
  for (let i = 0; i < Math.min(count, 20_000); i++) fn();
  const before = process.cpuUsage();
  for (let i = 0; i < count; i++) fn();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / count;
}

/** The hub's codecs on the server side, protobufjs or JSON.parse on the client side. */
function hubCoders(): Coder[] {
  const proto = createProtoCodec(PROTO_FILE, 1);
  const root = protobuf.loadSync(PROTO_FILE);
  const server = root.lookupType("kefu.live.v1.ServerFrame");
  const client = root.lookupType("kefu.live.v1.ClientFrame");
  return [
    {
      name: "kefu.v1.json",
      server: (frame) => {
        const text = jsonCodec.encode(frame) as string;
        const bytes = Buffer.from(text);
        JSON.parse(bytes.toString());
        return bytes.length;
      },
      client: (frame) => {
        const bytes = Buffer.from(JSON.stringify(frame));
        jsonCodec.decode(bytes, false);
        return bytes.length;
      },
    },
    {
      name: "kefu.v1.proto (protobufjs)",
      server: (frame) => {
        const bytes = proto.encode(frame) as Uint8Array;
        const decoded = server.decode(bytes) as unknown as { publication?: { data: Uint8Array } };
        if (decoded.publication) JSON.parse(Buffer.from(decoded.publication.data).toString());
        return bytes.length;
      },
      client: ({ type, ref, ...fields }) => {
        const bytes = client.encode({ ref, [String(type)]: fields }).finish();
        proto.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), true);
        return bytes.length;
      },
    },
  ];
}

export async function runCodecPhase(bench: LiveBench): Promise<Verdict[]> {
  const count = knob("codec-frames", 200_000);
  const coders = hubCoders();
  const other = await bufbuildCoder(PROTO_FILE);
  if (other) coders.push(other);
  else console.log("(@bufbuild/protobuf is not installed, nor at BENCH_BUFBUILD_PATH: measured protobufjs only)");
  const frames = [...Object.entries(SERVER).map(([name, frame]) => ({ name, run: (c: Coder) => c.server(frame) })), ...Object.entries(CLIENT).map(([name, frame]) => ({ name, run: (c: Coder) => c.client(frame) }))];
  const cpu = new Map<string, number[]>();
  for (let round = 0; round < bench.rounds; round++) {
    for (const frame of frames) for (const coder of coders) {
      const key = `${frame.name}|${coder.name}`;
      cpu.set(key, [...(cpu.get(key) ?? []), cpuMicros(count, () => frame.run(coder))]);
    }
  }
  const spreadOfKey = (key: string): Spread => spreadOf(cpu.get(key) ?? []);
  console.log(`\nJSON against protobuf — bytes per frame and CPU µs to encode + decode it (server frames: hub encodes, client decodes and parses data; client frames: client encodes, hub decodes), ${count.toLocaleString("en-US")} frames × ${bench.rounds} rounds`);
  printTable(["frame", ...coders.flatMap((c) => [`${c.name} B`, `${c.name} µs`])], frames.map((frame) => [frame.name, ...coders.flatMap((c) => [String(frame.run(c)), formatSpread(spreadOfKey(`${frame.name}|${c.name}`), 3)])]));
  const [json, proto] = coders as [Coder, Coder];
  const pub = frames[0] as (typeof frames)[number];
  const bytesRatio = pub.run(proto) / pub.run(json);
  const cpuRatio = spreadOf((cpu.get(`${pub.name}|${proto.name}`) ?? []).map((v, i) => v / (cpu.get(`${pub.name}|${json.name}`)?.[i] ?? NaN)));
  const clientMessage = frames.find((f) => f.name === "message (client)") as (typeof frames)[number];
  return [
    { figure: "protobuf / JSON bytes, message publication", value: spreadOf([bytesRatio]), target: "(measured)" },
    { figure: "protobuf / JSON bytes, client message frame", value: spreadOf([clientMessage.run(proto) / clientMessage.run(json)]), target: "(measured)" },
    { figure: "protobuf / JSON CPU, message publication", value: cpuRatio, target: "(measured)" },
  ];
}
