import { randomUUID } from "node:crypto";
import { createServer, STATUS_CODES, type RequestListener, type Server } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { ERROR_CODES, type ErrorCode } from "./errors.ts";
import { PROBLEM_CONTENT_TYPE, problemType } from "./problem.ts";

export interface HubServerOptions {
  /** Where requests that never became requests (parser errors) are logged, at debug. */
  logger: Logger;
}

/**
 * The HTTP server of the hub (src/main.ts) and of the tests: node:http with a `clientError`
 * handler, so that what Node's parser refuses before express sees it (NUL bytes, a non-ASCII
 * request line, an unknown method, over-long headers) is answered problem+json like every other
 * error, instead of Node's bodiless 400 or 431.
 */
export function createHubServer(listener: RequestListener, { logger }: HubServerOptions): Server {
  const server = createServer(listener);
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => answerClientError(error, socket, logger));
  return server;
}

/** Node's parser error codes and what the caller did wrong; the rest is malformed_request. */
const PARSER_ERRORS: Readonly<Record<string, { code: ErrorCode; detail: string }>> = {
  HPE_HEADER_OVERFLOW: { code: "headers_too_large", detail: "the request line and headers are larger than the server accepts (16 KiB)" },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { code: "payload_too_large", detail: "the chunk extensions are larger than the server accepts" },
  ERR_HTTP_REQUEST_TIMEOUT: { code: "request_timeout", detail: "the request was not received completely in time" },
  HPE_INVALID_METHOD: { code: "malformed_request", detail: "the request method is not a valid HTTP method" },
};

function answerClientError(error: NodeJS.ErrnoException, socket: Duplex, logger: Logger): void {
  // A response already being written on this socket (a pipelined request) must not be interleaved.
  const busy = (socket as { _httpMessage?: unknown })._httpMessage !== undefined && (socket as { _httpMessage?: unknown })._httpMessage !== null;
  if (error.code === "ECONNRESET" || !socket.writable || busy) {
    socket.destroy();
    return;
  }
  const known = PARSER_ERRORS[error.code ?? ""];
  const code = known?.code ?? "malformed_request";
  const detail = known?.detail ?? `the request is not valid HTTP/1.1 (${error.code ?? "parse error"}); check the request line and headers for control or non-ASCII characters`;
  const requestId = randomUUID();
  logger.debug({ err: error, reqId: requestId, code }, "refused a request the HTTP parser could not read");
  const { status, title } = ERROR_CODES[code];
  const body = JSON.stringify({ type: problemType(code), title, status, detail, code, requestId });
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}`,
    `content-type: ${PROBLEM_CONTENT_TYPE}`,
    `content-length: ${Buffer.byteLength(body)}`,
    "connection: close",
    `x-request-id: ${requestId}`,
  ];
  socket.end(`${head.join("\r\n")}\r\n\r\n${body}`);
  // A client that keeps its half open must not keep the socket.
  setTimeout(() => socket.destroy(), 1000).unref();
}
