import type { DeviceInfo } from '@city/core';
import type { DeviceDirectory } from './create-alert-evaluator.ts';

/** The part of the device registry (`@city/registry`) the alert engine reads. */
export interface DeviceLookup {
  getDevice(
    id: string,
  ): Promise<{ district?: string; location?: { lat: number; lon: number }; expectedIntervalMs?: number; tags?: Record<string, string> } | undefined>;
}

export interface RegistryDirectoryOptions {
  registry: DeviceLookup;
  /**
   * How long a device's record is reused before it is read again (a re-districted device is seen this late).
   * @defaultValue 30000
   */
  cacheMs?: number;
  /** @defaultValue 100000 */
  maxEntries?: number;
  now?: () => number;
}

/** The registry as the alert engine's device directory: district, location, tags and expected interval per device, cached. */
export function createRegistryDirectory({ registry, cacheMs = 30_000, maxEntries = 100_000, now = Date.now }: RegistryDirectoryOptions): DeviceDirectory {
  const cache = new Map<string, { at: number; info: DeviceInfo | undefined }>();
  return async (ids) => {
    const at = now();
    const result = new Map<string, DeviceInfo>();
    await Promise.all(
      ids.map(async (id) => {
        let entry = cache.get(id);
        if (!entry || at - entry.at > cacheMs) {
          const record = await registry.getDevice(id);
          const info: DeviceInfo | undefined = record && {
            ...(record.district !== undefined ? { district: record.district } : {}),
            ...(record.location !== undefined ? { location: record.location } : {}),
            ...(record.expectedIntervalMs !== undefined ? { expectedIntervalMs: record.expectedIntervalMs } : {}),
            ...(record.tags !== undefined ? { tags: record.tags } : {}),
          };
          entry = { at, info };
          if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
          cache.set(id, entry);
        }
        if (entry.info) result.set(id, entry.info);
      }),
    );
    return result;
  };
}
