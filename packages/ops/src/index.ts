export { buildOpsServer, type OpsServerOptions } from './build-ops-server.ts';
export { stopOnSignals } from './stop-on-signals.ts';
