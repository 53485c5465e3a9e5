import { z } from 'zod';
import { OPERATOR_ROLES } from '@city/core';
import { DEVICE_ID_PATTERN, DistrictSchema, FAMILIES, isFamily, type Family } from '@city/schema';

/** Device tags: free key/value labels an inventory carries (operator, owner, `site=school`) for rule selection. */
export const MAX_TAGS_PER_DEVICE = 16;
const TAG_KEY_RULE = 'tag names are lowercase letters, digits and "_", at most 32';
const TagKeySchema = z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, { error: TAG_KEY_RULE });
const TagValueSchema = z.string().regex(/^[^\p{Cc};=]{1,64}$/u, { error: 'tag values are 1 to 64 characters, without ";", "=" or control characters' });
export const DeviceTagsSchema = z
  .record(TagKeySchema, TagValueSchema, {
    // zod reports a bad key as "Invalid key in record"; say which rule it broke.
    error: (issue) => (issue.code === 'invalid_type' ? 'must be key=value pairs' : issue.code === 'invalid_key' ? TAG_KEY_RULE : undefined),
  })
  .refine((tags) => Object.keys(tags).length <= MAX_TAGS_PER_DEVICE, { error: `at most ${MAX_TAGS_PER_DEVICE} tags` });

/** Shortest and longest expected reporting interval a device may declare. */
export const MIN_EXPECTED_INTERVAL_MS = 1000;
export const MAX_EXPECTED_INTERVAL_MS = 7 * 24 * 3_600_000;

/**
 * One device as an inventory row, the CLI or the operator API describes it. Every field but `id` and `family` is
 * optional: a city's inventory often lacks coordinates. Messages name the rule; callers add the row and the field.
 */
export const DeviceInputSchema = z
  .object({
    id: z
      .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be text') })
      .regex(DEVICE_ID_PATTERN, { error: `must be letters, digits, ".", "_" or "-", at most 64, starting with a letter or digit` }),
    // isFamily, not a list of our own: families are added in @city/schema and arrive here unchanged.
    family: z.custom<Family>((value) => typeof value === 'string' && isFamily(value), {
      error: (issue) => (issue.input === undefined ? 'is required' : `must be one of ${FAMILIES.join(', ')}`),
    }),
    district: z
      .string({ error: 'must be text' })
      .refine((value) => DistrictSchema.safeParse(value).success, { error: 'must be a lowercase slug (a-z, 0-9, "_", "-"; at most 48)' })
      .optional(),
    lat: z.number({ error: 'must be a number from -90 to 90' }).min(-90, { error: 'must be from -90 to 90' }).max(90, { error: 'must be from -90 to 90' }).optional(),
    lon: z.number({ error: 'must be a number from -180 to 180' }).min(-180, { error: 'must be from -180 to 180' }).max(180, { error: 'must be from -180 to 180' }).optional(),
    expectedIntervalMs: z
      .number({ error: 'must be a whole number of milliseconds' })
      .int({ error: 'must be a whole number of milliseconds' })
      .min(MIN_EXPECTED_INTERVAL_MS, { error: `must be at least ${MIN_EXPECTED_INTERVAL_MS} ms` })
      .max(MAX_EXPECTED_INTERVAL_MS, { error: `must be at most ${MAX_EXPECTED_INTERVAL_MS} ms (7 days)` })
      .optional(),
    tags: DeviceTagsSchema.optional(),
    enabled: z.boolean({ error: 'must be true or false' }).default(true),
  })
  .strict()
  .superRefine((row, ctx) => {
    // A location is both coordinates or none: half of one would put the device on the equator or the meridian.
    if ((row.lat === undefined) !== (row.lon === undefined)) {
      const missing = row.lat === undefined ? 'lat' : 'lon';
      ctx.addIssue({ code: 'custom', path: [missing], message: 'is required when the other coordinate is given' });
    }
  }, { when: () => true }); // also when other fields failed: one pass reports every problem of a row

export type DeviceInput = z.output<typeof DeviceInputSchema>;

/** A device as the registry holds it (the credential hash is kept apart: see `DeviceCredential`). */
export interface DeviceRecord {
  id: string;
  family: Family;
  district?: string;
  location?: { lat: number; lon: number };
  /** How often the device is expected to report; the "silent device" signal compares against it. */
  expectedIntervalMs?: number;
  /** Labels for selecting devices (alert rules match on them). */
  tags?: Record<string, string>;
  enabled: boolean;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms of the last connect or publish the broker saw (written at most every few seconds per device). */
  lastSeenAt?: number;
  /** Epoch ms the current token was issued. */
  tokenIssuedAt: number;
}

export const OperatorNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
  error: 'must be letters, digits, ".", "_" or "-", at most 64, starting with a letter or digit',
});
export const OperatorRoleSchema = z.enum(OPERATOR_ROLES, { error: `must be one of ${OPERATOR_ROLES.join(', ')}` });

/** An operator or service account. Its MQTT username is `operator:<name>` (see `operatorUsername`). */
export interface OperatorRecord {
  name: string;
  role: (typeof OPERATOR_ROLES)[number];
  enabled: boolean;
  createdAt: number;
  tokenIssuedAt: number;
}

/** What the broker needs to check a CONNECT: the record and the stored token hash. */
export interface DeviceCredential {
  device: DeviceRecord;
  tokenHash: string;
}
export interface OperatorCredential {
  operator: OperatorRecord;
  tokenHash: string;
}

/**
 * MQTT usernames: a device's is its id; an operator's is `operator:<name>`. `:` cannot occur in a device id, so
 * the two never collide.
 */
export const OPERATOR_USERNAME_PREFIX = 'operator:';
export const operatorUsername = (name: string): string => `${OPERATOR_USERNAME_PREFIX}${name}`;
