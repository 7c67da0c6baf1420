import type { Customer, Order, OrderPayments, OrderShipments } from "../../src/plugins/sdk/index.ts";

/** What the demo business system serves: deterministic for a given seed. */
export interface DemoData {
  orders: Map<string, Order>;
  payments: Map<string, OrderPayments>;
  shipments: Map<string, OrderShipments>;
  customers: Map<string, Customer>;
}

const SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周"];
const GIVEN = ["芳", "伟", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "婷"];
const ENGLISH = ["Emily Chen", "Jason Li", "Grace Wang", "Kevin Zhang", "Olivia Liu", "Daniel Wu", "Sophia Huang", "Michael Zhou"];
const PRODUCTS = [
  { sku: "TEA-LJ-250", name: "西湖龙井 250g", unitPrice: 199 },
  { sku: "PHONE-CASE-15", name: "手机壳 iPhone 15", unitPrice: 39.9 },
  { sku: "EARBUDS-PRO", name: "Wireless Earbuds Pro", unitPrice: 499 },
  { sku: "RICE-COOKER-3L", name: "电饭煲 3L", unitPrice: 329 },
  { sku: "DOWN-JACKET-M", name: "羽绒服 M 码", unitPrice: 899 },
  { sku: "MOONCAKE-BOX", name: "月饼礼盒", unitPrice: 168.8 },
  { sku: "USB-C-CABLE", name: "USB-C Cable 2m", unitPrice: 29.9 },
];
const CARRIERS = [
  { name: "SF Express", prefix: "SF" },
  { name: "JD Logistics", prefix: "JDX" },
  { name: "ZTO Express", prefix: "ZTO" },
  { name: "YTO Express", prefix: "YT" },
];
const PLACES = ["杭州转运中心", "上海浦东分拨中心", "北京顺义集散中心", "广州白云分拨中心", "深圳南山营业部", "成都双流转运中心"];
const ORDER_STATUSES = ["pending", "paid", "shipped", "delivered", "completed", "cancelled", "refunded"] as const;
const METHODS = ["alipay", "wechat_pay", "unionpay", "card"];

/** mulberry32: small, fast and good enough for demo data. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateDemoData(seed: number, orderCount: number): DemoData {
  const random = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const customers = new Map<string, Customer>();
  const customerCount = Math.max(50, Math.ceil(orderCount / 2));
  for (let i = 1; i <= customerCount; i++) {
    const id = `C-${String(i).padStart(4, "0")}`;
    const chinese = random() < 0.75;
    const name = chinese ? pick(SURNAMES) + pick(GIVEN) + (random() < 0.5 ? pick(GIVEN) : "") : pick(ENGLISH);
    const riskRoll = random();
    customers.set(id, {
      id,
      name,
      tier: pick(["regular", "regular", "silver", "gold", "platinum"] as const),
      riskLevel: riskRoll < 0.8 ? "low" : riskRoll < 0.95 ? "medium" : "high",
      tags: [...new Set([random() < 0.4 ? "repeat-buyer" : "new-customer", ...(random() < 0.1 ? ["complained-before"] : [])])],
      contacts: [
        { type: "phone", value: `+86 13${Math.floor(random() * 10)} ${String(Math.floor(random() * 1e4)).padStart(4, "0")} ${String(i).padStart(4, "0")}` },
        ...(random() < 0.5 ? [{ type: "email" as const, value: `customer${i}@example.cn` }] : []),
      ],
    });
  }
  const orders = new Map<string, Order>();
  const payments = new Map<string, OrderPayments>();
  const shipments = new Map<string, OrderShipments>();
  const base = Date.UTC(2026, 9, 1);
  for (let i = 1; i <= orderCount; i++) {
    const id = `SO-${String(100000 + i)}`;
    const items = Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({ ...pick(PRODUCTS), quantity: 1 + Math.floor(random() * 3) }));
    const amount = Math.round(items.reduce((sum, item) => sum + item.unitPrice * item.quantity, 0) * 100) / 100;
    const created = base + Math.floor(random() * 60 * 86400_000);
    const status = pick(ORDER_STATUSES);
    const customerId = `C-${String(1 + Math.floor(random() * customerCount)).padStart(4, "0")}`;
    const updated = created + Math.floor(random() * 5 * 86400_000);
    orders.set(id, { id, status, amount, currency: "CNY", items, customerId, createdAt: iso(created), updatedAt: iso(updated) });
    payments.set(id, { orderId: id, payments: status === "pending" ? [] : [paymentFor(id, status, amount, created, random, pick)] });
    shipments.set(id, { orderId: id, shipments: ["shipped", "delivered", "completed"].includes(status) ? [shipmentFor(status, created, random, pick)] : [] });
  }
  return { orders, payments, shipments, customers };
}

function paymentFor(orderId: string, status: string, amount: number, created: number, random: () => number, pick: <T>(list: readonly T[]) => T): OrderPayments["payments"][number] {
  const paidAt = created + 60_000 + Math.floor(random() * 600_000);
  const refunded = status === "refunded";
  return {
    id: `PAY-${orderId.slice(3)}`,
    status: status === "cancelled" ? "failed" : refunded ? "refunded" : "succeeded",
    amount,
    currency: "CNY",
    method: pick(METHODS),
    paidAt: status === "cancelled" ? null : iso(paidAt),
    refunds: refunded ? [{ id: `RF-${orderId.slice(3)}`, amount, status: "succeeded", reason: "七天无理由退货", createdAt: iso(paidAt + 3 * 86400_000) }] : [],
  };
}

function shipmentFor(status: string, created: number, random: () => number, pick: <T>(list: readonly T[]) => T): OrderShipments["shipments"][number] {
  const carrier = pick(CARRIERS);
  const delivered = status !== "shipped";
  const steps = delivered ? 4 : 1 + Math.floor(random() * 3);
  const events = Array.from({ length: steps }, (_, step) => ({
    time: iso(created + (step + 1) * 8 * 3600_000),
    place: step === 0 ? pick(PLACES) : pick(PLACES),
    description: step === 0 ? "快件已揽收 / Picked up" : step === steps - 1 && delivered ? "已签收 / Delivered" : "运输中 / In transit",
  }));
  return {
    carrier: carrier.name,
    trackingNo: `${carrier.prefix}${String(Math.floor(random() * 1e10)).padStart(10, "0")}`,
    status: delivered ? "delivered" : "in_transit",
    events,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}
