import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startTestHub, type TestHub } from "./helpers/test-hub.ts";

let hub: TestHub;
before(async () => {
  hub = await startTestHub();
});
after(() => hub.close());

test("whoami answers the caller's scopes", async () => {
  const response = await hub.request("/v1/whoami", { scope: "read" });
  assert.equal(response.status, 200);
  assert.deepEqual((await response.json() as { scopes: string[] }).scopes, ["read"]);
});
