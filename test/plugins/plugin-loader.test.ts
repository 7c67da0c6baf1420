import assert from "node:assert/strict";
import { join } from "node:path";
import { after, test } from "node:test";
import { hubPaths } from "../../src/paths.ts";
import { preparePlugin, secretEnvName } from "../../src/plugins/plugin-loader.ts";
import { createSchemaRegistry } from "../../src/schemas/schema-registry.ts";
import { writePlugins } from "./fixture-plugins.ts";

const schemas = createSchemaRegistry(hubPaths().schemas);
const manifest = {
  version: "1.2.3",
  kind: "crm",
  entry: "index.ts",
  capabilities: { http: { allow: ["${config.baseUrl}", "https://auth.example.com"] }, secrets: ["API_TOKEN", "OTHER"] },
  config: { type: "object", additionalProperties: false, properties: { baseUrl: { type: "string", format: "uri", default: "https://crm.example.com:8443/api" } } },
};
const plugins = writePlugins({
  "shop-crm": { manifest, files: { "index.ts": 'import { map } from "./map.ts";\nexport async function getCustomer(input: { customerId: string }) { return map(input.customerId); }', "map.ts": "export const map = (id: string) => ({ id });" } },
  "escaper": { manifest: { ...manifest, config: undefined, capabilities: {} }, files: { "index.ts": 'import { readFileSync } from "node:fs";\nexport const getCustomer = () => readFileSync;' } },
  "outside": { manifest: { ...manifest, config: undefined, capabilities: {} }, files: { "index.ts": 'export { HELP as getCustomer } from "../../../../../../../../../../../work/main/src/cli/help.ts";' } },
});
after(() => plugins.remove());

test("config defaults, ${config.*} allow-list entries, bundling of relative imports; env secrets win and only declared names are read", async () => {
  const env = { [secretEnvName("shop-crm", "API_TOKEN")]: "from-env", [secretEnvName("shop-crm", "UNDECLARED")]: "never" };
  assert.equal(secretEnvName("shop-crm", "API_TOKEN"), "KEFU_PLUGIN_SECRET_SHOP_CRM_API_TOKEN");
  const prepared = await preparePlugin(join(plugins.dir, "shop-crm"), { schemas, env, settings: { secrets: { API_TOKEN: "from-config", OTHER: "other", UNDECLARED: "no" } } });
  assert.deepEqual(prepared.spec.config, { baseUrl: "https://crm.example.com:8443/api" });
  assert.deepEqual(prepared.spec.allow, ["https://crm.example.com:8443", "https://auth.example.com"]);
  assert.deepEqual(prepared.spec.secrets, { API_TOKEN: "from-env", OTHER: "other" });
  assert.deepEqual(prepared.manifest.limits, { memoryMb: 32, timeoutMs: 2000 });
  assert.match(prepared.spec.code, /var __kefuExports =/);
  assert.match(prepared.spec.code, /\{ id \}/);
});

test("an invalid config names the field; an import outside the folder or of a Node module is refused", async () => {
  await assert.rejects(
    preparePlugin(join(plugins.dir, "shop-crm"), { schemas, env: {}, settings: { config: { baseUrl: "not a url", extra: 1 } } }),
    /the plugin.s config is invalid: \/extra is not an allowed property; \/baseUrl must match format "uri"/,
  );
  await assert.rejects(preparePlugin(join(plugins.dir, "escaper"), { schemas, env: {}, settings: undefined }), /cannot import "node:fs": a plugin may only import files inside its own folder/);
  await assert.rejects(preparePlugin(join(plugins.dir, "outside"), { schemas, env: {}, settings: undefined }), /a plugin may only import files inside its own folder/);
});
