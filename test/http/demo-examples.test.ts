import assert from "node:assert/strict";
import { test } from "node:test";
import { generateDemoData } from "../../plugins/demo-business-system/data.ts";
import { bundleOpenApi } from "../../src/http/openapi-document.ts";
import { hubPaths } from "../../src/paths.ts";
import { createSchemaRegistry } from "../../src/schemas/schema-registry.ts";

// What `npm start`'s demo business system serves (its default seed and size).
const demo = generateDemoData(42, 300);
const paths = hubPaths();
const schemas = createSchemaRegistry(paths.schemas);
const document = bundleOpenApi({ rootFile: paths.openapi, schemasDir: paths.schemas, schemas });
type Json = Record<string, unknown>;
const components = document.components.schemas as Record<string, { examples?: Json[] }>;

/** Ids an example may name although the demo lacks them: the examples of a 404. */
const UNKNOWN_ON_PURPOSE = new Set(["SO-999999"]);

function strings(node: unknown, found: string[] = []): string[] {
  if (typeof node === "string") found.push(node);
  else if (Array.isArray(node)) for (const item of node) strings(item, found);
  else if (typeof node === "object" && node !== null) for (const value of Object.values(node)) strings(value, found);
  return found;
}

function firstExample(component: string): Json {
  const example = components[component]?.examples?.[0];
  assert.ok(example, `${component} has an example`);
  return example;
}

test("every order and customer id in the OpenAPI document is one the demo business system has", () => {
  const text = strings(document).join("\n");
  const orders = new Set(text.match(/\bSO-[0-9A-Za-z-]+/g) ?? []);
  const customers = new Set(text.match(/\bC-\d+\b/g) ?? []);
  assert.ok(orders.size > 0 && customers.size > 0);
  for (const id of orders) assert.ok(demo.orders.has(id) || UNKNOWN_ON_PURPOSE.has(id), `${id} is not a demo order`);
  for (const id of customers) assert.ok(demo.customers.has(id), `${id} is not a demo customer`);
});

test("Try it out on the order context starts from an order and its own customer", () => {
  const item = document.paths["/v1/orders/{orderId}/context"] as { parameters: { name: string; example?: string }[]; get: { parameters: { name: string; example?: string }[] } };
  const orderId = item.parameters.find((p) => p.name === "orderId")?.example ?? "";
  const customerId = item.get.parameters.find((p) => p.name === "customerId")?.example;
  assert.equal(demo.orders.get(orderId)?.customerId, customerId, `${orderId}'s customer`);
});

test("plugin output and context examples are the demo's records", () => {
  const order = firstExample("plugins.orders");
  assert.deepEqual(order, demo.orders.get(String(order["id"])));
  const payments = firstExample("plugins.payments");
  assert.deepEqual(payments, demo.payments.get(String(payments["orderId"])));
  const shipments = firstExample("plugins.logistics");
  assert.deepEqual(shipments, demo.shipments.get(String(shipments["orderId"])));
  const customer = firstExample("plugins.crm");
  assert.deepEqual(customer, demo.customers.get(String(customer["id"])));

  const context = firstExample("context.order-context") as { orderId: string; order: Json; payments: unknown; customer: Json };
  assert.deepEqual(context.order, demo.orders.get(context.orderId));
  assert.deepEqual(context.payments, demo.payments.get(context.orderId)?.payments);
  assert.deepEqual(context.customer, demo.customers.get(String(context.order["customerId"])));
  const answer = firstExample("context.customer-answer") as { customer: Json };
  assert.deepEqual(answer.customer, demo.customers.get(String(answer.customer["id"])));
});
