/** Every Redis key and channel of the sessions feature, under `${prefix}:sessions:`. */
export interface SessionKeys {
  session(sessionId: string): string;
  applied(sessionId: string): string;
  open: string;
  all: string;
  customer(customerId: string): string;
  changes: string;
  deadLetters: string;
  fusion(name: string): string;
}

export function sessionKeys(prefix: string): SessionKeys {
  const base = `${prefix}:sessions:`;
  return {
    session: (id) => `${base}s:${id}`,
    applied: (id) => `${base}applied:${id}`,
    open: `${base}open`,
    all: `${base}all`,
    customer: (id) => `${base}customer:${id}`,
    changes: `${base}changed`,
    deadLetters: `${base}dead-letters`,
    fusion: (name) => `${base}fusion:${name}`,
  };
}
