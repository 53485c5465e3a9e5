import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** JSON logs to stdout; one logger per service, children per component. Never log per reading at info. */
export function createLogger(options: { name: string; level?: LevelWithSilent }): Logger {
  return pino({ name: options.name, level: options.level ?? 'info', base: { service: options.name } });
}
