import { parseArgs } from "node:util";
import { hubPaths } from "../paths.ts";
import type { PluginKind } from "../plugins/plugin-caller.ts";
import { scaffoldPlugin } from "./plugin-new.ts";
import { testPlugin } from "./plugin-test.ts";

const USAGE = `Usage:
  kefu-hub plugin new <name> --kind <orders|payments|logistics|crm|transform> [--dir <plugins folder>]
  kefu-hub plugin test <plugin folder> [--cases <file>] [--verbose]
`;

/** `kefu-hub plugin …`; answers the exit code. */
export async function runPluginCommand(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const [sub, ...rest] = argv;
  const hubRoot = hubPaths().root;
  try {
    if (sub === "new") {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { kind: { type: "string" }, dir: { type: "string" } } });
      const name = positionals[0];
      if (!name || !values.kind) {
        err.write(`kefu-hub plugin new: a name and --kind are required\n\n${USAGE}`);
        return 2;
      }
      const folder = scaffoldPlugin({ name, kind: values.kind as PluginKind, dir: values.dir ?? env["KEFU_PLUGINS_DIR"] ?? "plugins", hubRoot });
      out.write(`created ${folder}: plugin.json, index.ts, cases.json\nnext: edit index.ts and cases.json, then run  npx kefu-hub plugin test ${folder}\n`);
      return 0;
    }
    if (sub === "test") {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { cases: { type: "string" }, verbose: { type: "boolean" } } });
      const folder = positionals[0];
      if (!folder) {
        err.write(`kefu-hub plugin test: the plugin folder is required\n\n${USAGE}`);
        return 2;
      }
      return await testPlugin({ pluginDir: folder, ...(values.cases ? { casesFile: values.cases } : {}), hubRoot, out, verbose: values.verbose === true });
    }
  } catch (error) {
    err.write(`kefu-hub plugin ${sub}: ${(error as Error).message}\n`);
    return 2;
  }
  err.write(`kefu-hub plugin: unknown subcommand "${sub ?? ""}"\n\n${USAGE}`);
  return 2;
}
