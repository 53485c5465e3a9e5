import { readFile, writeFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import {
  checkDeviceInput,
  formatInventoryError,
  inventoryFormatOf,
  parseInventory,
  parseTagList,
  type DeviceRecord,
  type InventoryError,
} from '@city/registry';
import { FAMILIES, isFamily } from '@city/schema';
import { CommandFailed, eachId, print, say, table, withRegistry } from './open-registry.ts';

/** The flag that sets each device field, to name it in an error. */
const FLAG_OF: Record<string, string> = { id: '<id>', family: '--family', district: '--district', lat: '--lat', lon: '--lon', expectedIntervalMs: '--interval-ms', tags: '--tags' };
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const numeric = (value: string | undefined) => (value !== undefined && NUMBER.test(value) ? Number(value) : value);

const loginHint = (id: string) => `log in with client id = username = ${id}, password = the token`;

function describeDevice(d: DeviceRecord): string[] {
  return [
    d.id,
    d.family,
    d.district ?? '-',
    d.enabled ? 'yes' : 'no',
    d.lastSeenAt === undefined ? 'never' : new Date(d.lastSeenAt).toISOString(),
    d.expectedIntervalMs === undefined ? '-' : `${d.expectedIntervalMs / 1000}s`,
    d.location ? `${d.location.lat},${d.location.lon}` : '-',
    d.tags ? Object.entries(d.tags).map(([k, v]) => `${k}=${v}`).join(';') : '-',
  ];
}

async function addDevice(id: string, opts: { family?: string; district?: string; lat?: string; lon?: string; intervalMs?: string; tags?: string; disabled?: boolean }, command: Command) {
  const tags = opts.tags === undefined ? undefined : (parseTagList(opts.tags) ?? opts.tags);
  const raw: Record<string, unknown> = { id, family: opts.family, district: opts.district, lat: numeric(opts.lat), lon: numeric(opts.lon), expectedIntervalMs: numeric(opts.intervalMs), tags, enabled: !opts.disabled };
  for (const key of Object.keys(raw)) if (raw[key] === undefined) delete raw[key];
  const checked = checkDeviceInput(raw);
  if ('errors' in checked) {
    throw new CommandFailed(checked.errors.map((e) => `${e.field ? FLAG_OF[e.field] ?? e.field : 'device'}: ${e.message}`).join('\n  '));
  }
  await withRegistry(command, async (registry) => {
    const added = await registry.addDevice(checked.device);
    if (!added.ok) throw new CommandFailed(`device ${id} is registered already (a new token: city devices rotate ${id})`);
    print(added.token);
    say(`registered ${id} (${added.record.family}${added.record.enabled ? '' : ', disabled'}). The token above is shown once; ${loginHint(id)}.`);
  });
}

async function importDevices(file: string, opts: { update?: boolean; tokensOut?: string }, command: Command) {
  const format = inventoryFormatOf(file);
  if (!format) throw new CommandFailed(`${file}: an inventory is a .csv or .json file`);
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new CommandFailed(`${file}: cannot read (${err.code ?? err.message})`);
  });
  const { rows, errors } = parseInventory(text, format);
  const locationOf = new Map(rows.map((row) => [row.device.id, row.location]));
  const failed: InventoryError[] = [...errors];
  const result = await withRegistry(command, (registry) =>
    registry.importDevices(rows.map((row) => row.device), { existing: opts.update ? 'update' : 'fail' }),
  );
  for (const { id } of result.failed) {
    failed.push({ location: locationOf.get(id) ?? '?', id, field: 'id', message: 'registered already (--update changes its details, keeping its token)' });
  }
  if (result.added.length > 0) {
    const csv = ['id,token', ...result.added.map(({ id, token }) => `${id},${token}`)].join('\n');
    if (opts.tokensOut) {
      // Tokens are secrets: readable by this user only.
      await writeFile(opts.tokensOut, `${csv}\n`, { mode: 0o600, flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
        throw new CommandFailed(`--tokens-out ${opts.tokensOut}: cannot create (${err.code ?? err.message}); the new devices' tokens are lost, rotate them`);
      });
    } else {
      print(csv);
    }
  }
  failed.sort((a, b) => (Number(/\d+/.exec(a.location)?.[0] ?? 0) - Number(/\d+/.exec(b.location)?.[0] ?? 0)));
  for (const error of failed) say(`${file}: ${formatInventoryError(error)}`);
  say(
    `${file}: ${result.added.length} added, ${result.updated.length} updated, ${failed.length} problem${failed.length === 1 ? '' : 's'}` +
      (result.added.length > 0 ? `; the new tokens are ${opts.tokensOut ? `in ${opts.tokensOut}` : 'on stdout'}, shown once` : ''),
  );
  if (failed.length > 0) process.exitCode = 1;
}

async function listDevices(opts: { family?: string; district?: string; enabled?: boolean; json?: boolean }, command: Command) {
  if (opts.family !== undefined && !isFamily(opts.family)) throw new CommandFailed(`--family: must be one of ${FAMILIES.join(', ')}`);
  const devices = await withRegistry(command, (registry) =>
    registry.listDevices({
      ...(opts.family !== undefined && isFamily(opts.family) ? { family: opts.family } : {}),
      ...(opts.district !== undefined ? { district: opts.district } : {}),
      ...(opts.enabled !== undefined ? { enabled: opts.enabled } : {}),
    }),
  );
  if (opts.json) {
    for (const device of devices) print(JSON.stringify(device));
    return;
  }
  print(table(['ID', 'FAMILY', 'DISTRICT', 'ENABLED', 'LAST SEEN', 'INTERVAL', 'LOCATION', 'TAGS'], devices.map(describeDevice)));
  say(`${devices.length} device${devices.length === 1 ? '' : 's'}`);
}

/** `city devices …`: the registry's device operations (packages/registry), one subcommand each. */
export function registerDevicesCommand(program: Command): void {
  const devices = program.command('devices').description('Register devices and manage their credentials (the device registry in Redis).');

  devices
    .command('add <id>')
    .description('Register one device; prints its token (once) on stdout.')
    .addOption(new Option('--family <family>', 'sensor family').choices(FAMILIES).makeOptionMandatory())
    .option('--district <slug>', 'district slug, e.g. medeu')
    .option('--lat <degrees>', 'latitude, -90..90 (with --lon)')
    .option('--lon <degrees>', 'longitude, -180..180 (with --lat)')
    .option('--interval-ms <ms>', 'expected time between two reports')
    .option('--tags <key=value;...>', 'labels alert rules can select on, e.g. "owner=akimat;site=school"')
    .option('--disabled', 'register it disabled: it cannot connect until enabled')
    .action(addDevice);

  devices
    .command('import <file>')
    .description(
      'Register the devices of an inventory file (.csv with a header row, or .json array) with columns ' +
        'id, family, district, lat, lon, expectedIntervalMs, tags (key=value;…), enabled. Good rows are imported, bad ones reported by line; ' +
        'exit code 1 if any row failed. New tokens go to stdout as CSV (id,token), or to --tokens-out.',
    )
    .option('--update', 'rows for registered devices update their family, district, location and interval (token and enabled flag kept)')
    .option('--tokens-out <file>', 'write the new tokens to this new file (mode 600) instead of stdout')
    .action(importDevices);

  devices
    .command('list')
    .description('List devices in id order.')
    .addOption(new Option('--family <family>').choices(FAMILIES))
    .option('--district <slug>')
    .option('--enabled', 'only enabled devices')
    .option('--disabled', 'only disabled devices')
    .option('--json', 'one JSON object per line')
    .action((opts: { family?: string; district?: string; enabled?: boolean; disabled?: boolean; json?: boolean }, command: Command) => {
      if (opts.enabled && opts.disabled) throw new CommandFailed('--enabled and --disabled exclude each other');
      const { disabled, ...rest } = opts;
      return listDevices({ ...rest, ...(disabled ? { enabled: false } : {}) }, command);
    });

  devices
    .command('disable <ids...>')
    .description('Refuse these devices from now on; brokers close their live connections within seconds.')
    .action((ids: string[], _opts: unknown, command: Command) =>
      withRegistry(command, (registry) => eachId(ids, (id) => registry.setDeviceEnabled(id, false), 'disabled')),
    );

  devices
    .command('enable <ids...>')
    .description('Let these devices connect again (with their current tokens).')
    .action((ids: string[], _opts: unknown, command: Command) =>
      withRegistry(command, (registry) => eachId(ids, (id) => registry.setDeviceEnabled(id, true), 'enabled')),
    );

  devices
    .command('rotate <id>')
    .description('Give the device a new token, printed (once) on stdout; the old one stops working and its live connection is closed.')
    .action((id: string, _opts: unknown, command: Command) =>
      withRegistry(command, async (registry) => {
        const token = await registry.rotateDeviceToken(id);
        if (token === undefined) throw new CommandFailed(`no such device: ${id}`);
        print(token);
        say(`${id}: new token above, shown once; ${loginHint(id)}.`);
      }),
    );

  devices
    .command('delete <ids...>')
    .description('Remove these devices and their credentials; brokers close their live connections.')
    .action((ids: string[], _opts: unknown, command: Command) =>
      withRegistry(command, (registry) => eachId(ids, (id) => registry.deleteDevice(id), 'deleted')),
    );
}
