import type { RequestHandler } from "express";
import { HubError } from "./errors.ts";
import type { RouteEntry } from "./route-table.ts";

/**
 * Answers 400 `malformed_encoding`, naming the parameter, when a path segment is not valid
 * percent-encoded UTF-8 (`%ff`, `%C3`, `%zz`, `%ED%A0%80`, a lone `%`). Express would otherwise
 * throw a URIError out of its parameter decoding, which reads as a 500. Only paths holding a `%`
 * are looked at, so that the hot path pays one `includes`.
 */
export function pathEncodingCheck(routes: () => readonly RouteEntry[]): RequestHandler {
  let compiled: CompiledRoute[] | undefined;
  return (req, _res, next) => {
    const path = req.path;
    if (!path.includes("%")) {
      next();
      return;
    }
    const segments = path.split("/");
    const bad = segments.findIndex((segment) => !decodes(segment));
    if (bad === -1) {
      next();
      return;
    }
    compiled ??= routes().map(compile);
    const name = parameterAt(compiled, segments, bad);
    // A literal segment that does not decode matches no route: route_not_found says it better.
    if (name === undefined) {
      next();
      return;
    }
    throw malformedParameter(name);
  };
}

/** The problem for a path parameter that does not decode (also used for express's own URIError). */
export function malformedParameter(name: string | undefined): HubError {
  const pointer = name === undefined ? "/path" : `/path/${name}`;
  const message = "is not valid percent-encoded UTF-8 (e.g. %ff, %C3 or a lone %)";
  return new HubError("malformed_encoding", `the path is invalid: ${pointer} ${message}`, { errors: [{ pointer, message }] });
}

interface CompiledRoute {
  /** Per segment: the parameter name, or the literal text. */
  segments: { parameter?: string; literal?: string }[];
}

function compile(route: RouteEntry): CompiledRoute {
  return {
    segments: route.path.split("/").map((segment) => (segment.startsWith(":") ? { parameter: segment.slice(1) } : { literal: segment })),
  };
}

/** The name of the parameter at segment `index` of the first route whose shape matches the path. */
function parameterAt(routes: readonly CompiledRoute[], segments: readonly string[], index: number): string | undefined {
  const trimmed = segments.length > 1 && segments.at(-1) === "" ? segments.slice(0, -1) : segments;
  for (const route of routes) {
    if (route.segments.length !== trimmed.length) continue;
    const fits = route.segments.every((part, i) => part.parameter !== undefined || part.literal === trimmed[i]);
    if (fits) return route.segments[index]?.parameter;
  }
  return undefined;
}

function decodes(segment: string): boolean {
  if (!segment.includes("%")) return true;
  try {
    decodeURIComponent(segment);
    return true;
  } catch {
    return false;
  }
}
