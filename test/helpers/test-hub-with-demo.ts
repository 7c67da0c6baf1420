import type { HubConfig } from "../../src/config/config.ts";
import { startDemoBusinessSystem, type DemoBusinessSystem } from "../../plugins/demo-business-system/server.ts";
import { startTestHub, type TestHub, type TestHubOptions } from "./test-hub.ts";

export const DEMO_PLUGINS = ["demo-orders", "demo-payments", "demo-logistics", "demo-crm"] as const;

export interface TestHubWithDemo extends TestHub {
  demo: DemoBusinessSystem;
}

/**
 * The demo business system on a free port, then a test hub whose demo plugins talk to it (through
 * `plugins.<name>.config.baseUrl`, which their manifests' `${config.baseUrl}` allow-list follows).
 * `close()` stops both.
 */
export async function startTestHubWithDemo(overrides: Partial<HubConfig> = {}, env: Record<string, string> = {}, options: TestHubOptions = {}): Promise<TestHubWithDemo> {
  const demo = await startDemoBusinessSystem({ port: 0 });
  const plugins: HubConfig["plugins"] = { ...overrides.plugins };
  for (const name of DEMO_PLUGINS) {
    plugins[name] = { ...plugins[name], config: { baseUrl: demo.url, ...plugins[name]?.config } };
  }
  let hub: TestHub;
  try {
    hub = await startTestHub({ pluginWatch: false, ...overrides, plugins }, env, options);
  } catch (error) {
    await demo.close();
    throw error;
  }
  return {
    ...hub,
    demo,
    async close() {
      await hub.close();
      await demo.close();
    },
  };
}
