// Renders GET /v1/orders/{orderId}/context: the order, its payments, shipments and customer, with
// the parts the hub could not get in time (`degraded`) named instead of hidden.
import { el, formatTime } from "./demo-common.js";

const money = (amount, currency) => {
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(amount);
  } catch {
    return `${amount} ${currency}`;
  }
};

export function renderOrder(node, answer) {
  const { order, payments, shipments, customer, degraded = [], sources = {} } = answer;
  const missing = new Map(degraded.map(({ part, reason }) => [part, reason]));
  const unavailable = (part) => el("p", { class: "degraded" }, `${part}: not available (${missing.get(part) ?? "unknown"})`);
  const children = [];
  if (order) {
    children.push(el("dl", { class: "facts", id: "order-facts" },
      el("dt", {}, "status"), el("dd", {}, el("strong", {}, order.status)),
      el("dt", {}, "amount"), el("dd", {}, money(order.amount, order.currency)),
      el("dt", {}, "created"), el("dd", {}, new Date(order.createdAt).toLocaleString()),
    ));
    children.push(el("table", {},
      el("tr", {}, el("th", {}, "item"), el("th", {}, "qty"), el("th", {}, "price")),
      order.items.map((item) => el("tr", {}, el("td", {}, item.name), el("td", { class: "num" }, String(item.quantity)), el("td", { class: "num" }, money(item.unitPrice, order.currency))))));
  } else children.push(unavailable("order"));

  children.push(el("h3", {}, "Payments"));
  if (!payments) children.push(unavailable("payments"));
  else if (payments.length === 0) children.push(el("span", { class: "muted" }, "none"));
  else children.push(el("ul", { class: "events" }, payments.map((p) => el("li", {}, el("span", { class: "type" }, p.status), el("span", { class: "what" }, `${money(p.amount, p.currency)} · ${p.method}`), el("span", { class: "data" }, p.paidAt ? formatTime(p.paidAt) : "")))));

  children.push(el("h3", {}, "Shipments"));
  if (!shipments) children.push(unavailable("shipments"));
  else if (shipments.length === 0) children.push(el("span", { class: "muted" }, "none yet"));
  else children.push(el("ul", { class: "events" }, shipments.map((s) => {
    const last = s.events[s.events.length - 1];
    return el("li", {}, el("span", { class: "type" }, s.status), el("span", { class: "what" }, `${s.carrier} ${s.trackingNo}`), el("span", { class: "data" }, last ? `${last.place}: ${last.description}` : ""));
  })));

  children.push(el("h3", {}, "Customer (CRM)"));
  if (customer) children.push(el("p", {}, `${customer.name} · ${customer.tier} · risk ${customer.riskLevel}${customer.tags.length ? ` · ${customer.tags.join(", ")}` : ""}`));
  else children.push(missing.has("customer") ? unavailable("customer") : el("span", { class: "muted" }, "unknown to the CRM"));

  const cache = Object.entries(sources).map(([part, s]) => `${part} ${s.cache}${s.cache === "miss" ? ` ${Math.round(s.durationMs)} ms` : ""}`).join(" · ");
  children.push(el("p", { class: "hint" }, `fetched ${new Date().toLocaleTimeString()} · ${cache}`));
  node.replaceChildren(...children);
}
