import { Command, CommanderError } from 'commander';
import { commands } from './commands/index.ts';

/**
 * `pnpm city <command>`: what operators do by hand. Each command module is a thin shell over a function of a
 * package (the future operator API calls the same functions); this file only assembles them.
 */
const program = new Command('city')
  .description('Operate the city telemetry backend.')
  .option('--redis-url <url>', 'Redis (env REDIS_URL)', process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
  .option('--prefix <prefix>', 'Redis key prefix (env QUEUE_PREFIX)', process.env.QUEUE_PREFIX ?? 'city')
  .showHelpAfterError()
  .exitOverride();

for (const register of commands) register(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  process.stderr.write(`city: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
