import { z } from 'zod';
import { FamilySchema } from './families.ts';
import { DistrictSchema } from './device-payload.ts';
import { DEVICE_ID_PATTERN } from './topic.ts';

/**
 * A validated reading as it travels from the broker, through the queue, to the worker.
 * The broker builds it; the worker parses it again when it takes the job off the queue.
 */
export const ReadingSchema = z.object({
  family: FamilySchema,
  deviceId: z.string().regex(DEVICE_ID_PATTERN),
  /** Event time, epoch ms: the device's `ts`, or the receive time when it sent none. */
  ts: z.number().int(),
  /** When the broker received it, epoch ms. */
  receivedAt: z.number().int(),
  district: DistrictSchema.optional(),
  metrics: z.record(z.string(), z.union([z.number(), z.boolean()])),
  /** The event time is older than the late threshold: stored, and marked so (field `late=true`). */
  late: z.literal(true).optional(),
  /** A cumulative metric went back since the device's previous reading (reset, replacement, rollover): field `counterReset=true`. */
  counterReset: z.literal(true).optional(),
});

/** Fields the storage writes beside the metrics; no metric may take these names. */
export const READING_FLAGS = ['late', 'counterReset'] as const;
export type Reading = z.infer<typeof ReadingSchema>;

/** One job on the telemetry queue: a micro-batch of readings. */
export const TelemetryBatchSchema = z.object({
  readings: z.array(ReadingSchema).min(1),
});
export type TelemetryBatch = z.infer<typeof TelemetryBatchSchema>;
