import type { HubEvent, RoutingDecision } from "../events/hub-event.ts";

export const COMPARED_FIELDS = ["businessLine", "queue", "agentGroup", "priority", "tags", "slaMinutes"] as const;

export interface SimulationChange {
  eventId: string;
  eventType: string;
  /** Route fields that differ. */
  fields: string[];
  before: RoutingDecision;
  after: RoutingDecision;
}

export interface SimulationReport {
  total: number;
  /** Events whose route (queue, group, priority, tags, SLA or business line) would change. */
  changed: number;
  unchanged: number;
  /** Events whose route stays but another rule would decide it. */
  decidedByOtherRule: number;
  /** Events decided with an unavailable plugin fact, on either side. */
  degraded: number;
  changes: SimulationChange[];
  /** True when `changes` lists only the first {@link SimulateOptions.maxChanges}. */
  truncated: boolean;
}

export interface SimulateOptions {
  events: readonly HubEvent[];
  before: (event: HubEvent) => Promise<RoutingDecision>;
  after: (event: HubEvent) => Promise<RoutingDecision>;
  /** @defaultValue 500 */
  maxChanges?: number;
}

/** Decides each event both ways and reports exactly the decisions that differ. */
export async function simulate({ events, before, after, maxChanges = 500 }: SimulateOptions): Promise<SimulationReport> {
  const report: SimulationReport = { total: events.length, changed: 0, unchanged: 0, decidedByOtherRule: 0, degraded: 0, changes: [], truncated: false };
  for (const event of events) {
    const [was, would] = await Promise.all([before(event), after(event)]);
    if (was.degraded || would.degraded) report.degraded++;
    const fields = COMPARED_FIELDS.filter((field) => JSON.stringify(was[field]) !== JSON.stringify(would[field]));
    if (fields.length === 0) {
      report.unchanged++;
      if (was.matchedRules.join() !== would.matchedRules.join()) report.decidedByOtherRule++;
      continue;
    }
    report.changed++;
    if (report.changes.length < maxChanges) report.changes.push({ eventId: event.id, eventType: event.type, fields, before: was, after: would });
    else report.truncated = true;
  }
  return report;
}
