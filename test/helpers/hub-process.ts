import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { eventually, TEST_KEYS, TEST_REDIS_URL } from "./test-hub.ts";
import { freePort } from "../../src/net/free-port.ts";

export { freePort };

export interface HubProcess {
  child: ChildProcess;
  url: string;
  /** Resolves with the exit code (or the signal's name) when the process ends. */
  exited: Promise<number | string>;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** The output once it matches `pattern`: log lines are written 4 KB or 250 ms at a time. Throws after 5 s. */
  outputMatching(pattern: RegExp): Promise<string>;
}

const CLI = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

/**
 * `kefu-hub start` as a real child process on a free port, returned once `/readyz` says ready
 * (or, with `waitFor: "listening"`, once `/healthz` answers).
 */
export async function startHubProcess(env: Record<string, string>, waitFor: "ready" | "listening" = "ready"): Promise<HubProcess> {
  const port = await freePort();
  let output = "";
  const child = spawn(process.execPath, [CLI, "start"], {
    env: {
      PATH: process.env["PATH"] ?? "",
      PORT: String(port),
      HOST: "127.0.0.1",
      REDIS_URL: TEST_REDIS_URL,
      KEFU_API_KEYS: `${TEST_KEYS.admin}=admin`,
      KEFU_LOG_FORMAT: "json",
      KEFU_LOG_LEVEL: "warn",
      // Tests that need the demo business system start their own on port 0.
      KEFU_DEMO_BUSINESS_SYSTEM: "false",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  const url = `http://127.0.0.1:${port}`;
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`hub exited early:\n${output}`);
      return (await fetch(`${url}${waitFor === "ready" ? "/readyz" : "/healthz"}`)).status === 200;
    },
    15_000,
    `the hub process to be ${waitFor}`,
  );
  const outputMatching = (pattern: RegExp): Promise<string> => eventually(() => (pattern.test(output) ? output : undefined), 5000, `output matching ${pattern}`);
  return { child, url, exited, output: () => output, outputMatching };
}
