import { createHmac } from "node:crypto";

export type MaskAction = "redact" | "hash" | "drop";

/** One masked path of a subscription: a bare path is redacted. */
export type MaskEntry = string | { path: string; action: MaskAction };

/** What `redact` writes in place of a value. */
export const REDACTED = "***";

type Json = Record<string, unknown> | unknown[];

/** Marks a value to remove from its object or array. */
const DROP = Symbol("drop");

interface CompiledPath {
  segments: string[];
  replace: (value: unknown) => unknown;
}

/**
 * Masks the webhook payload (`{type, timestamp, data}`) of a subscription with `mask`. Paths are
 * dotted (`data.customer.phone`), with `*` for every key of an object or every item of an array
 * (`data.contacts.*.value`). `hash` is HMAC-SHA256 with the subscription's own key, in hex, so
 * that a receiver can still join on it without learning the value. Copy on write: only the
 * objects on a masked path are copied, and the event itself is never changed.
 */
export function compileMask(entries: readonly MaskEntry[], hashKey: string): (payload: Record<string, unknown>) => Record<string, unknown> {
  const paths: CompiledPath[] = entries.map((entry) => {
    const { path, action } = typeof entry === "string" ? { path: entry, action: "redact" as const } : entry;
    return { segments: path.split("."), replace: replacerOf(action, hashKey) };
  });
  return (payload) => {
    let current: unknown = payload;
    for (const { segments, replace } of paths) current = maskAt(current, segments, 0, replace);
    return current as Record<string, unknown>;
  };
}

function replacerOf(action: MaskAction, hashKey: string): (value: unknown) => unknown {
  switch (action) {
    case "redact":
      return () => REDACTED;
    case "drop":
      return () => DROP;
    case "hash":
      return (value) => createHmac("sha256", hashKey).update(typeof value === "string" ? value : JSON.stringify(value)).digest("hex");
  }
}

/** The node with the path from `segments[index]` masked: the same node when nothing on it matched. */
function maskAt(node: unknown, segments: readonly string[], index: number, replace: (value: unknown) => unknown): unknown {
  if (typeof node !== "object" || node === null) return node;
  const container = node as Json;
  const segment = segments[index] as string;
  const last = index === segments.length - 1;
  const names = segment === "*" ? Object.keys(container) : Object.hasOwn(container, segment) ? [segment] : [];
  let copy: Json | undefined;
  for (const name of names) {
    const child = (container as Record<string, unknown>)[name];
    // null and absent values stay as they are: there is nothing to hide, and inventing "***" would mislead.
    const next = last ? (child === null || child === undefined ? child : replace(child)) : maskAt(child, segments, index + 1, replace);
    if (next === child) continue;
    copy ??= Array.isArray(container) ? [...container] : { ...container };
    (copy as Record<string, unknown>)[name] = next;
  }
  if (!copy) return node;
  if (Array.isArray(copy)) return copy.filter((item) => item !== DROP);
  for (const [name, value] of Object.entries(copy)) if (value === DROP) delete copy[name];
  return copy;
}
