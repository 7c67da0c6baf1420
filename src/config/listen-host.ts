/**
 * Which address the HTTP API binds to. An explicit `HOST` wins. Without one, the hub listens on
 * every interface (`0.0.0.0`) only when API keys are configured: a run that generated its own
 * admin key (a first `npm start`) is a trial on this machine, and a key printed to a terminal
 * should not open the API to the network.
 */
export function listenHost({ configuredHost, keysConfigured }: { configuredHost: string | undefined; keysConfigured: boolean }): string {
  if (configuredHost !== undefined) return configuredHost;
  return keysConfigured ? "0.0.0.0" : "127.0.0.1";
}

/** The log line of a bound server: the real address, and a URL a browser on this machine can open. */
export function listeningMessage(address: string, port: number): string {
  const wildcard = address === "0.0.0.0" || address === "::";
  const local = wildcard ? "127.0.0.1" : address.includes(":") ? `[${address}]` : address;
  const where = wildcard ? `${address === "::" ? "[::]" : address}:${port} (every interface)` : `http://${local}:${port}`;
  return `kefu-hub listening on ${where} — Swagger UI at http://${local}:${port}/docs`;
}
