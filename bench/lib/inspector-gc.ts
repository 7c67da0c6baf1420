/**
 * Runs a full garbage collection in another Node.js process started with
 * `--inspect=127.0.0.1:<port>`, through the inspector protocol (HeapProfiler.collectGarbage), so
 * that a memory reading afterwards is what the process retains rather than garbage V8 has not yet
 * collected. The process needs no `--expose-gc` and no code of its own for it.
 */
export async function collectGarbage(inspectPort: number, timeoutMs = 30_000): Promise<void> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json()) as { webSocketDebuggerUrl?: string }[];
  const url = targets[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error(`no inspector target on port ${inspectPort}`);
  const socket = new WebSocket(url);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("HeapProfiler.collectGarbage did not answer")), timeoutMs);
      socket.addEventListener("open", () => socket.send(JSON.stringify({ id: 1, method: "HeapProfiler.collectGarbage" })));
      socket.addEventListener("message", (message) => {
        if ((JSON.parse(String(message.data)) as { id?: number }).id !== 1) return;
        clearTimeout(timer);
        resolve();
      });
      socket.addEventListener("error", () => {
        clearTimeout(timer);
        reject(new Error(`inspector connection to ${url} failed`));
      });
    });
  } finally {
    socket.close();
  }
}
