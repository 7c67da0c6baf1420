import type { BooleanCondition } from "../routing/ruleset.ts";
import type { RiskLevel } from "./session-types.ts";

/** A fusion document as schemas/sessions/fusion.schema.json allows it. */
export interface FusionDocument {
  description?: string;
  recent: { size: number; types: string[] };
  counters: { name: string; type: string; windowSeconds: number; max?: number }[];
  latest: { name: string; type: string; path: string }[];
  risk: { default: RiskLevel; rules: { name: string; description?: string; level: RiskLevel; conditions: BooleanCondition }[] };
}

/**
 * The shipped default, active until an admin stores another: three failed payments within ten
 * minutes, or the CRM's own risk level `high`, make a session `high`.
 */
export const DEFAULT_FUSION: FusionDocument = {
  description: "kefu-hub's default: recent activity, failed payments over 10 minutes, last page and cart value; risk high on 3 failed payments in 10 min or a high CRM risk level",
  recent: { size: 10, types: ["page.viewed", "cart.updated", "payment.failed", "order.placed", "coupon.applied"] },
  counters: [
    { name: "paymentFailed10m", type: "payment.failed", windowSeconds: 600 },
    { name: "pageViews30m", type: "page.viewed", windowSeconds: 1800 },
  ],
  latest: [
    { name: "lastPage", type: "page.viewed", path: "$.url" },
    { name: "cartValue", type: "cart.updated", path: "$.value" },
  ],
  risk: {
    default: "low",
    rules: [
      {
        name: "repeated-payment-failures",
        description: "three or more failed payments within 10 minutes",
        level: "high",
        conditions: { all: [{ fact: "counters", path: "$.paymentFailed10m", operator: "greaterThanInclusive", value: 3 }] },
      },
      {
        name: "crm-high-risk",
        description: "the CRM rates the customer high-risk",
        level: "high",
        conditions: { all: [{ fact: "profile", path: "$.riskLevel", operator: "equal", value: "high" }] },
      },
      {
        name: "crm-medium-risk",
        description: "the CRM rates the customer medium-risk",
        level: "medium",
        conditions: { all: [{ fact: "profile", path: "$.riskLevel", operator: "equal", value: "medium" }] },
      },
    ],
  },
};
