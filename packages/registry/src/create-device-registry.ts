import type { Redis } from 'ioredis';
import type { OperatorRole } from '@city/core';
import type { Family } from '@city/schema';
import { generateToken, hashToken, tokenMatchesHash } from './credential-token.ts';
import {
  DeviceInputSchema,
  OperatorNameSchema,
  OperatorRoleSchema,
  type DeviceCredential,
  type DeviceInput,
  type DeviceRecord,
  type OperatorCredential,
  type OperatorRecord,
} from './device-input.ts';
import { OPTIONAL_DEVICE_FIELDS, deviceFields, parseDeviceHash, parseOperatorHash } from './registry-records.ts';
import { scripts, type Fields, type Notice } from './registry-scripts.ts';

export interface DeviceRegistryOptions {
  /** A Redis connection. The registry never closes it; `watch` opens (and closes) a duplicate for pub/sub. */
  redis: Redis;
  /**
   * Prefix of every key, the deployment's `QUEUE_PREFIX`: keys are `{prefix}:registry:…`.
   * @defaultValue 'city'
   */
  prefix?: string;
  /**
   * The clock for `createdAt` and `tokenIssuedAt`.
   * @defaultValue Date.now
   */
  now?: () => number;
}

export type RegistryEntity = 'device' | 'operator';
export type ChangeKind = 'added' | 'updated' | 'enabled' | 'disabled' | 'rotated' | 'deleted';

/**
 * What brokers hear on `{prefix}:registry:changes`. `resync` is local: the subscription was lost and is back, and
 * changes made meanwhile were not heard, so every cached credential is suspect.
 */
export type RegistryChange = { entity: RegistryEntity; id: string; change: ChangeKind } | { entity: 'all'; change: 'resync' };

export type AddResult<R> = { ok: true; record: R; token: string } | { ok: false; reason: 'exists' };
export type VerifyResult<R> = { ok: true; record: R } | { ok: false; reason: 'unknown' | 'bad_token' | 'disabled' };

export interface DeviceFilter {
  family?: Family;
  district?: string;
  enabled?: boolean;
}

export interface ImportOptions {
  /**
   * A row whose id is registered already: `fail` reports it; `update` rewrites its family, district, location and
   * interval (never its enabled flag or token).
   * @defaultValue 'fail'
   */
  existing?: 'fail' | 'update';
}

export interface ImportResult {
  /** New devices and their tokens: the only time these tokens exist outside the devices. */
  added: Array<{ id: string; token: string }>;
  updated: string[];
  /** Rows not imported, with the reason. */
  failed: Array<{ id: string; reason: 'exists' }>;
}

export interface RegistryWatch {
  close(): Promise<void>;
}

export type DeviceRegistry = ReturnType<typeof createDeviceRegistry>;

/** Rows per Redis round trip in bulk operations. */
const CHUNK = 500;

function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** ioredis pipelines answer `[error, result]` per command; a failed command fails the whole bulk call. */
function results(replies: Array<[Error | null, unknown]> | null): unknown[] {
  return (replies ?? []).map(([err, result]) => {
    if (err) throw err;
    return result;
  });
}

/**
 * The device registry and operator accounts, in Redis:
 * `{prefix}:registry:device:{id}` and `{prefix}:registry:operator:{name}` (hashes), `{prefix}:registry:devices` and
 * `…:operators` (sorted sets of ids, for listing in order), and the pub/sub channel `{prefix}:registry:changes`.
 * Only a hash of each token is stored. These functions are the programmatic API: the CLI calls them, and so will
 * the operator HTTP API.
 */
export function createDeviceRegistry({ redis, prefix = 'city', now = Date.now }: DeviceRegistryOptions) {
  const root = `${prefix}:registry`;
  const keys = {
    device: (id: string) => `${root}:device:${id}`,
    devices: `${root}:devices`,
    operator: (name: string) => `${root}:operator:${name}`,
    operators: `${root}:operators`,
    changes: `${root}:changes`,
  };
  const notice = (entity: RegistryEntity, id: string, change: ChangeKind): Notice => ({
    channel: keys.changes,
    message: JSON.stringify({ entity, id, change } satisfies RegistryChange),
  });
  const recordKey = (entity: RegistryEntity, id: string) => (entity === 'device' ? keys.device(id) : keys.operator(id));

  function credentialFields(token: string, at: number): Fields {
    return { tokenHash: hashToken(token), tokenIssuedAt: String(at) };
  }

  async function update(entity: RegistryEntity, id: string, change: ChangeKind, set: Fields): Promise<boolean> {
    return (await redis.eval(...scripts.update(recordKey(entity, id), notice(entity, id, change), set))) === 1;
  }

  async function rotate(entity: RegistryEntity, id: string): Promise<string | undefined> {
    const token = generateToken();
    return (await update(entity, id, 'rotated', credentialFields(token, now()))) ? token : undefined;
  }

  async function remove(entity: RegistryEntity, id: string): Promise<boolean> {
    const index = entity === 'device' ? keys.devices : keys.operators;
    return (await redis.eval(...scripts.delete([recordKey(entity, id), index], notice(entity, id, 'deleted'), id))) === 1;
  }

  /** Every member of an index, in id order, paged so a large city does not block Redis. */
  async function members(index: string): Promise<string[]> {
    const all: string[] = [];
    let from = '-';
    for (;;) {
      const page = await redis.zrangebylex(index, from, '+', 'LIMIT', 0, CHUNK);
      all.push(...page);
      if (page.length < CHUNK) return all;
      from = `(${page[page.length - 1]!}`;
    }
  }

  async function hashes(recordKeys: readonly string[]): Promise<Array<Record<string, string>>> {
    const out: Array<Record<string, string>> = [];
    for (const part of chunks(recordKeys)) {
      const pipeline = redis.pipeline();
      for (const key of part) pipeline.hgetall(key);
      out.push(...(results(await pipeline.exec()) as Array<Record<string, string>>));
    }
    return out;
  }

  function addDeviceArgs(input: DeviceInput, token: string, at: number) {
    const fields: Fields = { ...deviceFields(input), enabled: input.enabled ? '1' : '0', createdAt: String(at), ...credentialFields(token, at) };
    return scripts.add([keys.device(input.id), keys.devices], notice('device', input.id, 'added'), input.id, fields);
  }

  async function getDeviceCredential(id: string): Promise<DeviceCredential | undefined> {
    return parseDeviceHash(await redis.hgetall(keys.device(id)));
  }

  async function getOperatorCredential(name: string): Promise<OperatorCredential | undefined> {
    return parseOperatorHash(await redis.hgetall(keys.operator(name)));
  }

  return {
    keys,

    /** Registers one device and returns its token, which is never stored and cannot be shown again. */
    async addDevice(input: DeviceInput): Promise<AddResult<DeviceRecord>> {
      const device = DeviceInputSchema.parse(input);
      const token = generateToken();
      if ((await redis.eval(...addDeviceArgs(device, token, now()))) !== 1) return { ok: false, reason: 'exists' };
      return { ok: true, token, record: (await getDeviceCredential(device.id))!.device };
    },

    /** Registers many devices, `CHUNK` per round trip. Each row succeeds or fails on its own. */
    async importDevices(inputs: readonly DeviceInput[], { existing = 'fail' }: ImportOptions = {}): Promise<ImportResult> {
      const result: ImportResult = { added: [], updated: [], failed: [] };
      for (const part of chunks(inputs.map((input) => DeviceInputSchema.parse(input)))) {
        const at = now();
        const tokens = part.map(() => generateToken());
        const adding = redis.pipeline();
        part.forEach((device, i) => adding.eval(...addDeviceArgs(device, tokens[i]!, at)));
        const present: DeviceInput[] = [];
        results(await adding.exec()).forEach((added, i) => {
          if (added === 1) result.added.push({ id: part[i]!.id, token: tokens[i]! });
          else present.push(part[i]!);
        });
        if (present.length === 0) continue;
        if (existing === 'fail') {
          result.failed.push(...present.map((device) => ({ id: device.id, reason: 'exists' as const })));
          continue;
        }
        const updating = redis.pipeline();
        for (const device of present) {
          const set = deviceFields(device);
          const del = OPTIONAL_DEVICE_FIELDS.filter((field) => set[field] === undefined);
          updating.eval(...scripts.update(keys.device(device.id), notice('device', device.id, 'updated'), set, del));
        }
        results(await updating.exec()).forEach((updated, i) => {
          // Deleted between the two round trips: report it rather than resurrect it.
          if (updated === 1) result.updated.push(present[i]!.id);
          else result.failed.push({ id: present[i]!.id, reason: 'exists' });
        });
      }
      return result;
    },

    async getDevice(id: string): Promise<DeviceRecord | undefined> {
      return (await getDeviceCredential(id))?.device;
    },

    /** The record with its stored token hash: what the broker's credential cache holds. */
    getDeviceCredential,

    /** Devices in id order, filtered. Reads every record: meant for operators and tools, not per-message paths. */
    async listDevices(filter: DeviceFilter = {}): Promise<DeviceRecord[]> {
      const ids = await members(keys.devices);
      return (await hashes(ids.map(keys.device)))
        .map((hash) => parseDeviceHash(hash)?.device)
        .filter((d): d is DeviceRecord => d !== undefined)
        .filter(
          (d) =>
            (filter.family === undefined || d.family === filter.family) &&
            (filter.district === undefined || d.district === filter.district) &&
            (filter.enabled === undefined || d.enabled === filter.enabled),
        );
    },

    /** False when no such device. Brokers close a disabled device's connections within seconds. */
    setDeviceEnabled(id: string, enabled: boolean): Promise<boolean> {
      return update('device', id, enabled ? 'enabled' : 'disabled', { enabled: enabled ? '1' : '0' });
    },

    /** A new token (the old one stops working at once); undefined when no such device. */
    rotateDeviceToken: (id: string) => rotate('device', id),

    deleteDevice: (id: string) => remove('device', id),

    /** The whole check a broker makes, for callers without a cache (the operator API, tools). */
    async verifyDevice(id: string, token: string | Buffer): Promise<VerifyResult<DeviceRecord>> {
      const credential = await getDeviceCredential(id);
      if (!credential) return { ok: false, reason: 'unknown' };
      if (!tokenMatchesHash(token, credential.tokenHash)) return { ok: false, reason: 'bad_token' };
      if (!credential.device.enabled) return { ok: false, reason: 'disabled' };
      return { ok: true, record: credential.device };
    },

    /**
     * Records that these devices were seen at `at`. One round trip per `CHUNK` ids; unknown ids are skipped and
     * `lastSeenAt` never moves back. The caller batches and throttles (the broker writes each device at most once
     * per flush interval). Resolves with the number of records written.
     */
    async touchLastSeen(ids: Iterable<string>, at: number): Promise<number> {
      let written = 0;
      for (const part of chunks([...ids])) written += (await redis.eval(...scripts.touch(part.map(keys.device), at))) as number;
      return written;
    },

    /** An operator (`operator`: reads alerts and status) or service (`service`: publishes alerts) account. */
    async addOperator(name: string, role: OperatorRole): Promise<AddResult<OperatorRecord>> {
      OperatorNameSchema.parse(name);
      OperatorRoleSchema.parse(role);
      const token = generateToken();
      const at = now();
      const fields: Fields = { name, role, enabled: '1', createdAt: String(at), ...credentialFields(token, at) };
      if ((await redis.eval(...scripts.add([keys.operator(name), keys.operators], notice('operator', name, 'added'), name, fields))) !== 1) {
        return { ok: false, reason: 'exists' };
      }
      return { ok: true, token, record: (await getOperatorCredential(name))!.operator };
    },

    async getOperator(name: string): Promise<OperatorRecord | undefined> {
      return (await getOperatorCredential(name))?.operator;
    },

    getOperatorCredential,

    async listOperators(): Promise<OperatorRecord[]> {
      const names = await members(keys.operators);
      return (await hashes(names.map(keys.operator)))
        .map((hash) => parseOperatorHash(hash)?.operator)
        .filter((o): o is OperatorRecord => o !== undefined);
    },

    setOperatorEnabled(name: string, enabled: boolean): Promise<boolean> {
      return update('operator', name, enabled ? 'enabled' : 'disabled', { enabled: enabled ? '1' : '0' });
    },

    rotateOperatorToken: (name: string) => rotate('operator', name),

    deleteOperator: (name: string) => remove('operator', name),

    async verifyOperator(name: string, token: string | Buffer): Promise<VerifyResult<OperatorRecord>> {
      const credential = await getOperatorCredential(name);
      if (!credential) return { ok: false, reason: 'unknown' };
      if (!tokenMatchesHash(token, credential.tokenHash)) return { ok: false, reason: 'bad_token' };
      if (!credential.operator.enabled) return { ok: false, reason: 'disabled' };
      return { ok: true, record: credential.operator };
    },

    /**
     * Calls `listener` for every change any process makes to the registry, and with `resync` after the subscription
     * was lost and came back. Resolves once subscribed. Uses its own connection (a subscribed connection can do
     * nothing else), which retries forever and queues commands while Redis is away.
     */
    async watch(listener: (change: RegistryChange) => void, options: { onError?: (err: Error) => void } = {}): Promise<RegistryWatch> {
      // Named, so `CLIENT LIST` shows what it is (and a test can cut exactly this connection).
      const subscriber = redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, lazyConnect: false, connectionName: `${root}:watch` });
      let readyBefore = false;
      subscriber.on('ready', () => {
        if (readyBefore) listener({ entity: 'all', change: 'resync' });
        readyBefore = true;
      });
      subscriber.on('error', (err: Error) => options.onError?.(err));
      subscriber.on('message', (channel: string, message: string) => {
        if (channel !== keys.changes) return;
        try {
          const change = JSON.parse(message) as RegistryChange;
          if (change.entity === 'device' || change.entity === 'operator') listener(change);
        } catch (err) {
          options.onError?.(err as Error);
        }
      });
      await subscriber.subscribe(keys.changes);
      return {
        async close() {
          await subscriber.quit().catch(() => subscriber.disconnect());
        },
      };
    },
  };
}
