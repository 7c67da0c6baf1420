import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { connect, createServer, type AddressInfo, type Socket } from "node:net";

/** A running librdkafka mock cluster, hosted by a `kcat` process. */
export interface KafkaMock {
  /**
   * `host:port` to bootstrap from: the version-capping proxy in front of the mock broker (see
   * {@link startKafkaMock}), e.g. `127.0.0.1:39071`.
   */
  readonly bootstrapServers: string;
  /** The mock broker itself, without the proxy: what a client sees of librdkafka 2.0.2 unchanged. */
  readonly brokerAddress: string;
  /** Kills the kcat process (and with it the cluster and every topic in it) and the proxy. Idempotent. */
  close(): Promise<void>;
}

/** Why the Kafka tests cannot run here, or `undefined` when `kcat` is on the PATH. */
export function kcatMissing(): string | undefined {
  const probe = spawnSync("kcat", ["-V"], { stdio: "ignore" });
  return probe.error === undefined ? undefined : "kcat is not installed (apt-get install kcat): the Kafka mock-cluster tests are skipped";
}

/**
 * Starts librdkafka's built-in mock cluster through kcat. kcat needs some client mode to stay up,
 * so it consumes a throwaway topic; `-d mock` makes librdkafka log the cluster's
 * `bootstrap.servers=...` on stderr, which is the only place the random port is published.
 *
 * Clients bootstrap through a proxy that forwards every byte unchanged except the ApiVersions
 * answer, in which it lowers ListOffsets' highest version to 3: librdkafka 2.0.2's mock (Debian
 * 12's) advertises ListOffsets v0–v5 but encodes the v4+ `LeaderEpoch` as an int64 instead of an
 * int32 (`rd_kafka_mock_handle_ListOffsets`, fixed in librdkafka 2.1.0), so a client that picks v4
 * or v5 misreads every partition after the first. v3 has no such field. A client learns the
 * versions once, from its bootstrap connection, and uses them on every broker connection; so only
 * the bootstrap traffic needs the proxy, and the brokers' own addresses stay as the mock gives them.
 */
export async function startKafkaMock({ timeoutMs = 10_000 } = {}): Promise<KafkaMock> {
  const child = spawn("kcat", ["-b", "127.0.0.1:1", "-X", "test.mock.num.brokers=1", "-d", "mock", "-C", "-t", "kefu-mock-keepalive"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  try {
    const brokerAddress = await bootstrapFrom(child, timeoutMs);
    const proxy = await startVersionProxy(brokerAddress);
    return { bootstrapServers: proxy.address, brokerAddress, close: async () => void (await Promise.all([proxy.close(), stop(child)])) };
  } catch (error) {
    await stop(child);
    throw error;
  }
}

const API_VERSIONS = 18;
const LIST_OFFSETS = 2;
/** The highest ListOffsets version that librdkafka 2.0.2's mock encodes correctly. */
const LIST_OFFSETS_MAX_VERSION = 3;

async function startVersionProxy(brokerAddress: string): Promise<{ address: string; close(): Promise<void> }> {
  const [host, port] = splitAddress(brokerAddress);
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const broker = connect(port, host);
    sockets.add(client).add(broker);
    const apiVersionsRequests = new Set<number>();
    const closeBoth = (): void => {
      client.destroy();
      broker.destroy();
      sockets.delete(client);
      sockets.delete(broker);
    };
    client.on("error", closeBoth).on("close", closeBoth);
    broker.on("error", closeBoth).on("close", closeBoth);
    // Requests: header is api_key int16, api_version int16, correlation_id int32.
    client.on("data", frames((frame) => {
      if (frame.length >= 8 && frame.readInt16BE(0) === API_VERSIONS) apiVersionsRequests.add(frame.readInt32BE(4));
      broker.write(withLength(frame));
    }));
    // Responses: header is correlation_id int32 (ApiVersions always uses header v0).
    broker.on("data", frames((frame) => {
      if (frame.length >= 4 && apiVersionsRequests.delete(frame.readInt32BE(0))) capListOffsets(frame);
      client.write(withLength(frame));
    }));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      if (!server.listening) return;
      const closed = once(server, "close");
      server.close();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/**
 * ApiVersions response body as the mock writes it for every request version (it never uses the
 * flexible layout): error_code int16, [api_key int16, min_version int16, max_version int16] with an
 * int32 count, then throttle_time_ms int32 from v1. Edited in place; anything else is left alone.
 */
function capListOffsets(frame: Buffer): void {
  const countAt = 4 + 2;
  if (frame.length < countAt + 4) return;
  const count = frame.readInt32BE(countAt);
  if (count < 0 || countAt + 4 + count * 6 > frame.length) return;
  for (let i = 0, at = countAt + 4; i < count; i += 1, at += 6) {
    if (frame.readInt16BE(at) === LIST_OFFSETS && frame.readInt16BE(at + 4) > LIST_OFFSETS_MAX_VERSION) frame.writeInt16BE(LIST_OFFSETS_MAX_VERSION, at + 4);
  }
}

/** Splits a byte stream into Kafka frames (int32 length, then that many bytes), without the length. */
function frames(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
      const size = pending.readInt32BE(0);
      onFrame(Buffer.from(pending.subarray(4, 4 + size)));
      pending = pending.subarray(4 + size);
    }
  };
}

function withLength(frame: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeInt32BE(frame.length);
  return Buffer.concat([length, frame]);
}

function splitAddress(address: string): [string, number] {
  const at = address.lastIndexOf(":");
  return [address.slice(0, at), Number(address.slice(at + 1))];
}

async function bootstrapFrom(child: ChildProcess, timeoutMs: number): Promise<string> {
  const stderr = child.stderr;
  if (stderr === null) throw new Error("kcat has no stderr pipe");
  stderr.setEncoding("utf8");
  let seen = "";
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kcat logged no bootstrap.servers within ${timeoutMs} ms:\n${seen.slice(-2000)}`)), timeoutMs);
    const onData = (chunk: string): void => {
      seen += chunk;
      const match = /bootstrap\.servers=(\S+)/.exec(seen);
      if (match?.[1] === undefined) return;
      clearTimeout(timer);
      seen = "";
      // Keep draining: `-d mock` logs every request, and a full pipe would block the whole cluster.
      stderr.off("data", onData);
      stderr.resume();
      resolve(match[1]);
    };
    stderr.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`kcat exited (${String(code)}) before its mock cluster was up:\n${seen.slice(-2000)}`));
    });
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  await exited;
}
