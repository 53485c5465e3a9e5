import type { Logger } from 'pino';

/**
 * SIGTERM and SIGINT run `stop` once (a second signal while stopping is ignored), log it, and exit 0 when it
 * finished cleanly, 1 when it threw. Only a service's main.ts calls this.
 */
export function stopOnSignals(logger: Logger, stop: () => Promise<void>, what: string): void {
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, `stopping: ${what}`);
      stop().then(
        () => {
          logger.info('stopped');
          process.exit(0);
        },
        (err: unknown) => {
          logger.error({ err }, 'unclean stop');
          process.exit(1);
        },
      );
    });
  }
}
