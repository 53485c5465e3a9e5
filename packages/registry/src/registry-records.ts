import type { Family } from '@city/schema';
import type { OperatorRole } from '@city/core';
import type { DeviceCredential, DeviceInput, OperatorCredential } from './device-input.ts';
import type { Fields } from './registry-scripts.ts';

/** The optional device fields: an inventory update that leaves one out removes it. */
export const OPTIONAL_DEVICE_FIELDS = ['district', 'lat', 'lon', 'expectedIntervalMs', 'tags'] as const;

/** A device's descriptive fields as Redis hash fields (identity, credentials and times are written apart). */
export function deviceFields(input: DeviceInput): Fields {
  const fields: Fields = { id: input.id, family: input.family };
  if (input.district !== undefined) fields.district = input.district;
  if (input.lat !== undefined && input.lon !== undefined) {
    fields.lat = String(input.lat);
    fields.lon = String(input.lon);
  }
  if (input.expectedIntervalMs !== undefined) fields.expectedIntervalMs = String(input.expectedIntervalMs);
  if (input.tags !== undefined && Object.keys(input.tags).length > 0) fields.tags = JSON.stringify(input.tags);
  return fields;
}

const num = (value: string | undefined) => (value === undefined || value === '' ? undefined : Number(value));

/** A device hash read back; undefined when it is missing or incomplete (never a half record). */
export function parseDeviceHash(hash: Record<string, string>): DeviceCredential | undefined {
  const { id, family, tokenHash, createdAt } = hash;
  if (!id || !family || !tokenHash || !createdAt) return undefined;
  const lat = num(hash.lat);
  const lon = num(hash.lon);
  const expectedIntervalMs = num(hash.expectedIntervalMs);
  const lastSeenAt = num(hash.lastSeenAt);
  return {
    tokenHash,
    device: {
      id,
      // Written from FamilySchema; a family later removed from the schema still shows here, and its topics no
      // longer parse, so the device can connect but not publish.
      family: family as Family,
      ...(hash.district ? { district: hash.district } : {}),
      ...(lat !== undefined && lon !== undefined ? { location: { lat, lon } } : {}),
      ...(expectedIntervalMs !== undefined ? { expectedIntervalMs } : {}),
      ...(hash.tags ? { tags: JSON.parse(hash.tags) as Record<string, string> } : {}),
      enabled: hash.enabled !== '0',
      createdAt: Number(createdAt),
      ...(lastSeenAt !== undefined ? { lastSeenAt } : {}),
      tokenIssuedAt: num(hash.tokenIssuedAt) ?? Number(createdAt),
    },
  };
}

export function parseOperatorHash(hash: Record<string, string>): OperatorCredential | undefined {
  const { name, role, tokenHash, createdAt } = hash;
  if (!name || (role !== 'operator' && role !== 'service') || !tokenHash || !createdAt) return undefined;
  return {
    tokenHash,
    operator: {
      name,
      role: role satisfies OperatorRole,
      enabled: hash.enabled !== '0',
      createdAt: Number(createdAt),
      tokenIssuedAt: num(hash.tokenIssuedAt) ?? Number(createdAt),
    },
  };
}
