export { ConfigError, loadConfig } from './load-config.ts';
export { envInt, envLogLevel, envUrl } from './env-types.ts';
