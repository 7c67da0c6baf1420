export const HELP = `kefu-hub — connector hub between customer-service systems and business systems

Usage:
  kefu-hub start            run the hub (HTTP API, Swagger UI at /docs)
  kefu-hub worker           run only the event fan-out and webhook delivery workers, to scale
                            them out over machines sharing the hubs' Redis (REDIS_URL)
  kefu-hub rules validate <file> [--strict]
                            check a routing ruleset offline (schema, facts, operators,
                            shadowed rules); exit 1 on an error
  kefu-hub plugin new <name> --kind <orders|payments|logistics|crm|transform> [--dir plugins]
                            scaffold a plugin folder: plugin.json, index.ts, cases.json
  kefu-hub plugin test <folder> [--cases <file>] [--verbose]
                            run a plugin in the real sandbox against its recorded cases
                            (fake upstream answers); exit 1 when a case fails
  kefu-hub doctor [--json]  check a deployment (Redis version, AOF, noeviction, clock; keys, bind
                            address, private CIDRs, plugin bindings, demo left on) and print what
                            to fix; exit 0 pass, 1 warnings, 2 a failure
  kefu-hub --help           this text

Configuration comes from the environment (PORT, REDIS_URL, KEFU_*) and an optional JSON file
named by KEFU_CONFIG; see docs/configuration.md.
`;
