// Baseline: a bare express 5 app with default settings answering the same JSON body.
import express from "express";

const app = express();
app.get("/healthz", (_req, res) => {
  res.json({ status: "ok" });
});
app.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => process.send?.("ready"));
