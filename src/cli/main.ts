import { HELP } from "./help.ts";

/** Entry of the `kefu-hub` command and of `npm start`. */
async function main(argv: readonly string[]): Promise<number> {
  const [command] = argv;
  switch (command) {
    case "start": {
      const { start } = await import("../main.ts");
      await start({ env: process.env });
      return -1; // keeps running until a signal
    }
    case "worker": {
      const { runWorker } = await import("../delivery/worker-process.ts");
      await runWorker({ env: process.env });
      return -1; // keeps running until a signal
    }
    case "rules": {
      const { runRulesCommand } = await import("./rules-command.ts");
      return runRulesCommand(argv.slice(1), process.stdout, process.stderr);
    }
    case "doctor": {
      const { runDoctorCommand } = await import("./doctor-command.ts");
      return runDoctorCommand(argv.slice(1), process.env, process.stdout, process.stderr);
    }
    case "plugin": {
      const { runPluginCommand } = await import("./plugin-command.ts");
      return runPluginCommand(argv.slice(1), process.env, process.stdout, process.stderr);
    }
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(HELP);
      return 0;
    default:
      process.stderr.write(`kefu-hub: unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

const code = await main(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
