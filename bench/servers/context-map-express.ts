// Ceiling for bench/context.ts: a bare express 5 app serving order contexts from a Map, nothing else.
// argv: <port> <file of {orderId: context} JSON>
import { readFileSync } from "node:fs";
import express from "express";

const contexts = new Map<string, unknown>(Object.entries(JSON.parse(readFileSync(process.argv[3] ?? "", "utf8")) as Record<string, unknown>));
const app = express();
app.get("/v1/orders/:orderId/context", (req, res) => {
  const context = contexts.get(req.params.orderId);
  if (context === undefined) res.status(404).json({ code: "not_found" });
  else res.json(context);
});
app.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => process.send?.("ready"));
