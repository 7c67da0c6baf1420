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
await import("../src/cli/main.ts");
