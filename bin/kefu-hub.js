#!/usr/bin/env node
// The kefu-hub command. The source is TypeScript run directly by Node.js 24 (type stripping),
// so an older Node gets a clear message instead of a syntax error.
const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  process.stderr.write(
    `kefu-hub needs Node.js 24 or later; this is ${process.version}. ` +
      "Run it through npm (npm start), which uses the project's own Node 24, or install Node.js 24.\n",
  );
  process.exit(1);
}
// Always the sources: a dist/ left over from an earlier `npm start` would otherwise run stale code
// while you edit. `npm start` and the Docker image run the bundle (dist/kefu-hub.js) directly.
await import("../src/cli/main.ts");
