/** What one check of `kefu-hub doctor` found. */
export type Level = "pass" | "warn" | "fail";

export interface Finding {
  /** e.g. `redis.eviction`. */
  check: string;
  level: Level;
  /** What was found, for a person. */
  message: string;
  /** What to change, when it is not a pass. */
  fix?: string;
}

/** Exit codes: 0 every check passed, 1 some warned (none failed), 2 one failed (or doctor could not run). */
export const DOCTOR_EXIT = { pass: 0, warn: 1, fail: 2 } as const satisfies Record<Level, number>;

export function exitCodeOf(findings: readonly Finding[]): number {
  if (findings.some((finding) => finding.level === "fail")) return DOCTOR_EXIT.fail;
  return findings.some((finding) => finding.level === "warn") ? DOCTOR_EXIT.warn : DOCTOR_EXIT.pass;
}

export const pass = (check: string, message: string): Finding => ({ check, level: "pass", message });
export const warn = (check: string, message: string, fix: string): Finding => ({ check, level: "warn", message, fix });
export const fail = (check: string, message: string, fix: string): Finding => ({ check, level: "fail", message, fix });
