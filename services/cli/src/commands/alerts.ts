import os from 'node:os';
import type { Command } from 'commander';
import { Redis } from 'ioredis';
import type { AlertRule, Silence } from '@city/schema';
import { createAlertOperations, loadAlertRulesFile, type AlertOperations, type OperatorResult } from '@city/worker';
import { CommandFailed, print, say, table } from './open-registry.ts';

interface AlertsGlobals {
  redisUrl: string;
  prefix: string;
  rules: string;
}

/** Runs `action` with the alert operations under `--redis-url` / `--prefix`, on a fail-fast connection closed afterwards. */
export async function withAlerts<T>(command: Command, action: (ops: AlertOperations) => Promise<T>): Promise<T> {
  const { redisUrl, prefix, rules: rulesPath } = command.optsWithGlobals<AlertsGlobals>();
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
  } catch (err) {
    throw new Error(`cannot reach Redis at ${redisUrl}: ${(err as Error).message}`);
  }
  let rules: readonly AlertRule[] = [];
  // Acknowledge and resolve describe the alert with its rule; listing and silencing do not need the file.
  const ops = createAlertOperations({
    redis, prefix,
    rules: () => {
      if (rulesError !== undefined) throw new CommandFailed(`the rules file is needed here: ${rulesError}`);
      return rules;
    },
  });
  let rulesError: string | undefined;
  try {
    await loadAlertRulesFile(rulesPath).then((file) => (rules = file.rules), (err: unknown) => (rulesError = (err as Error).message));
    return await action(ops);
  } finally {
    await ops.close();
    await redis.quit().catch(() => redis.disconnect());
  }
}

const REASONS: Record<Extract<OperatorResult, { ok: false }>['reason'], string> = {
  no_open_alert: 'has no open alert',
  already_acknowledged: 'is acknowledged already',
  unknown_rule: 'names a rule the rules file does not have (see --rules)',
};

/** "90s", "15m", "2h", "3d" → ms. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(text);
  if (!match) throw new CommandFailed(`"${text}" is not a duration like 90s, 15m, 2h, 3d`);
  return Number(match[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd'];
}

const who = (by?: string) => by ?? `cli:${os.userInfo().username}`;
const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `city alerts …`: open alerts, acknowledge / resolve by hand, silences, rule reloads. */
export function registerAlertsCommand(program: Command): void {
  const alerts = program
    .command('alerts')
    .description('The alert engine: open alerts, acknowledge and resolve, silences, rule reloads.')
    .option('--rules <file>', 'the rules file (env ALERT_RULES_FILE)', process.env.ALERT_RULES_FILE ?? 'config/alert-rules.json');

  alerts
    .command('list')
    .description('Open alerts, most severe first.')
    .option('--json', 'one JSON object per line')
    .action((opts: { json?: boolean }, command: Command) =>
      withAlerts(command, async (ops) => {
        const open = await ops.list();
        if (opts.json) return open.forEach((a) => print(JSON.stringify(a)));
        print(table(['SEVERITY', 'STATE', 'RULE', 'DEVICE', 'DISTRICT', 'SINCE', 'VALUE', 'ACK BY'], open.map((a) => [
          a.severity + (a.flapping ? ' (flapping)' : ''), a.state, a.rule, a.device, a.district ?? '', a.raisedAt, a.value === undefined ? '' : String(Math.round(a.value * 100) / 100), a.acknowledgedBy ?? '',
        ])));
      }),
    );

  for (const [name, verb, done] of [['ack', 'acknowledge', 'acknowledged'], ['resolve', 'resolve', 'resolved']] as const) {
    alerts
      .command(`${name} <rule> <device>`)
      .description(name === 'ack' ? 'Acknowledge the open alert of (rule, device), recording who and when.' : 'Resolve it by hand; no new alert until the condition clears.')
      .option('--by <who>', 'who does it (default: cli:<your user name>)')
      .option('--note <text>', 'a note kept with the alert')
      .action((rule: string, device: string, opts: { by?: string; note?: string }, command: Command) =>
        withAlerts(command, async (ops) => {
          const result = await ops[verb]({ rule, device, by: who(opts.by), ...(opts.note !== undefined ? { note: opts.note } : {}) });
          if (!result.ok) throw new CommandFailed(`${rule} ${device} ${REASONS[result.reason]}`);
          say(`${result.event.alertId}: ${done} by ${who(opts.by)}`);
        }),
      );
  }

  alerts
    .command('silence')
    .description('Silence alerts (recorded, not notified) by rule, device and/or district until an end time.')
    .option('--rule <id>', 'a rule (repeatable)', collect)
    .option('--device <id>', 'a device (repeatable)', collect)
    .option('--district <slug>', 'a district (repeatable)', collect)
    .option('--for <duration>', 'how long: 90m, 2h, 1d')
    .option('--until <time>', 'ISO 8601 end time')
    .option('--reason <text>', 'why (shown in the list)')
    .option('--by <who>', 'who (default: cli:<your user name>)')
    .option('--id <slug>', 'its id (default: generated)')
    .action((opts: { rule?: string[]; device?: string[]; district?: string[]; for?: string; until?: string; reason?: string; by?: string; id?: string }, command: Command) =>
      withAlerts(command, async (ops) => {
        if ((opts.for === undefined) === (opts.until === undefined)) throw new CommandFailed('give one of --for and --until');
        const until = opts.for !== undefined ? new Date(Date.now() + parseDuration(opts.for)).toISOString() : opts.until!;
        const silence: Silence = {
          id: opts.id ?? `s-${Date.now().toString(36)}`,
          until,
          by: who(opts.by),
          ...(opts.rule ? { rules: opts.rule } : {}),
          ...(opts.device ? { devices: opts.device } : {}),
          ...(opts.district ? { districts: opts.district } : {}),
          ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
        };
        try {
          const saved = await ops.silence(silence);
          print(saved.id);
          say(`silenced until ${String(saved.until)}`);
        } catch (err) {
          throw new CommandFailed(`not a valid silence: ${(err as Error).message}`);
        }
      }),
    );

  alerts
    .command('unsilence <id>')
    .description('End a silence now.')
    .action((id: string, _opts: unknown, command: Command) =>
      withAlerts(command, async (ops) => {
        if (!(await ops.unsilence(id))) throw new CommandFailed(`no such silence: ${id}`);
        say(`${id}: ended`);
      }),
    );

  alerts
    .command('silences')
    .description('The silences in Redis (maintenance windows of the rules file are listed there).')
    .action((_opts: unknown, command: Command) =>
      withAlerts(command, async (ops) => {
        const silences = await ops.silences();
        print(table(['ID', 'UNTIL', 'RULES', 'DEVICES', 'DISTRICTS', 'BY', 'REASON'], silences.map((s) => [
          s.id, String(s.until), s.rules?.join(',') ?? '*', s.devices?.join(',') ?? '*', s.districts?.join(',') ?? '*', s.by ?? '', s.reason ?? '',
        ])));
      }),
    );

  alerts
    .command('reload')
    .description("Ask every worker to reload its rules file; a file that fails validation leaves that worker's rules as they were.")
    .action((_opts: unknown, command: Command) =>
      withAlerts(command, async (ops) => {
        const { receivers, outcomes } = await ops.reload();
        if (receivers === 0) throw new CommandFailed('no worker is listening (is a storage worker running with this --prefix?)');
        for (const [worker, outcome] of Object.entries(outcomes)) say(`${worker}: ${outcome.ok ? `ok, ${outcome.rules} rules` : `FAILED, kept ${outcome.rules} rules: ${outcome.error}`}`);
        const failed = Object.values(outcomes).filter((o) => !o.ok).length;
        if (Object.keys(outcomes).length < receivers) say(`${receivers - Object.keys(outcomes).length} worker(s) did not answer in time`);
        if (failed > 0) throw new CommandFailed(`${failed} worker(s) kept their old rules`);
      }),
    );

  alerts
    .command('check [file]')
    .description('Validate a rules file without loading it anywhere.')
    .action(async (file: string | undefined, _opts: unknown, command: Command) => {
      const path = file ?? command.optsWithGlobals<AlertsGlobals>().rules;
      try {
        const parsed = await loadAlertRulesFile(path);
        say(`${path}: ${parsed.rules.length} rules, ${parsed.maintenance.length} maintenance windows: valid`);
      } catch (err) {
        throw new CommandFailed((err as Error).message);
      }
    });
}
