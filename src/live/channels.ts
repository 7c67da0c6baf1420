import type { LivePrincipal } from "./live-token.ts";

export type ChannelKind = "session" | "agent" | "queue";

export interface Channel {
  name: string;
  kind: ChannelKind;
  id: string;
}

const CHANNEL = /^(session|agent|queue):([A-Za-z0-9._:@-]{1,200})$/;

export function parseChannel(name: string): Channel | undefined {
  const match = CHANNEL.exec(name);
  return match ? { name, kind: match[1] as ChannelKind, id: match[2] as string } : undefined;
}

/** A visitor: only the sessions in its token. An agent: any session, its own agent channel, any queue. */
export function mayAccess(principal: LivePrincipal, channel: Channel): boolean {
  if (principal.role === "visitor") return channel.kind === "session" && principal.sessions.includes(channel.id);
  return channel.kind !== "agent" || channel.id === principal.id;
}
