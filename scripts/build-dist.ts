// Bundles the hub and its plugin runner into plain JavaScript under dist/, which `npm start` and the
// Docker image run: Node then strips no TypeScript at start, and so never loads its type stripper
// (amaro, a WASM build of swc): ~20 MB of RSS in each of the two processes (docs/benchmarks.md,
// memory). The sources stay the truth: tests and `node src/cli/main.ts` run them directly.
//   node scripts/build-dist.ts            (npm run build; npm start runs it first)
import { readFile, rm } from "node:fs/promises";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";

const ROOT = resolve(import.meta.dirname, "..");
export const DIST = resolve(ROOT, "dist");

/** How runner-client.ts names the runner's entry; in dist/ the runner is the bundle next to it. */
const RUNNER_ENTRY_SOURCE = 'new URL("./runner/runner-main.ts", import.meta.url)';
const RUNNER_ENTRY_BUNDLED = 'new URL("./runner-main.js", import.meta.url)';

/**
 * Keeps `import.meta.url` and `import.meta.dirname` meaning the source file's own location (the
 * Lua scripts, schemas/ and the proto file are found next to the sources), however the bundle
 * splits them into chunks: each becomes the source's path relative to dist/, resolved from the
 * chunk's own URL, so that the checkout or image may be moved.
 */
function sourceLocations(): Plugin {
  let runnerEntries = 0;
  return {
    name: "source-locations",
    setup(builder) {
      builder.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, async (args) => {
        let text = await readFile(args.path, "utf8");
        if (text.includes(RUNNER_ENTRY_SOURCE)) {
          text = text.replace(RUNNER_ENTRY_SOURCE, "__KEFU_RUNNER_ENTRY__");
          runnerEntries++;
        }
        if (text.includes("import.meta.url") || text.includes("import.meta.dirname")) {
          const url = `new URL(${JSON.stringify(relative(DIST, args.path).split("\\").join("/"))}, import.meta.url)`;
          text = text
            .replaceAll("import.meta.url", `${url}.href`)
            .replaceAll("import.meta.dirname", `__kefuFileURLToPath(new URL(".", ${url}))`);
          text = `import { fileURLToPath as __kefuFileURLToPath } from "node:url";\n${text}`;
        }
        return { contents: text.replace("__KEFU_RUNNER_ENTRY__", RUNNER_ENTRY_BUNDLED), loader: "ts" };
      });
      builder.onEnd(() => {
        if (runnerEntries !== 1) throw new Error(`expected runner-client.ts to name the runner once as ${RUNNER_ENTRY_SOURCE}; found ${runnerEntries}`);
      });
    },
  };
}

/** Writes dist/kefu-hub.js (the CLI), dist/runner-main.js (the plugin runner) and their shared chunks. */
export async function buildDist(): Promise<void> {
  await rm(DIST, { recursive: true, force: true });
  await build({
    entryPoints: { "kefu-hub": resolve(ROOT, "src/cli/main.ts"), "runner-main": resolve(ROOT, "src/plugins/runner/runner-main.ts") },
    bundle: true,
    // Modules loaded on first use (the CLI's commands) stay chunks of their own, loaded as late as before.
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node24",
    // node_modules are imported from where npm put them, as by the sources.
    packages: "external",
    outdir: DIST,
    sourcemap: "linked",
    logLevel: "warning",
    plugins: [sourceLocations()],
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildDist();
  process.stdout.write(`built ${relative(process.cwd(), DIST) || "."}/kefu-hub.js and runner-main.js from ${relative(process.cwd(), dirname(DIST)) || "."}/src\n`);
}
