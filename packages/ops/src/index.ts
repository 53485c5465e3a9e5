export { buildOpsServer, type OpsServerOptions } from './build-ops-server.ts';
