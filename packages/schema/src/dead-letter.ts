import { z } from 'zod';
import { REASON_CODES } from './reason-codes.ts';

/** How much of a rejected payload the dead-letter entry keeps. */
export const DEAD_LETTER_PAYLOAD_MAX_BYTES = 4096;

/** One rejected payload (or one rejected reading of a batch array), as kept on the dead-letter queue. */
export const DeadLetterEntrySchema = z.object({
  reason: z.enum(REASON_CODES),
  /** For a person: which field, and why. */
  detail: z.string(),
  topic: z.string(),
  clientId: z.string(),
  receivedAt: z.number().int(),
  /** Position in a batch array; absent when the whole payload was rejected. */
  index: z.number().int().nonnegative().optional(),
  /** The raw payload, or the one rejected reading of a batch, cut at DEAD_LETTER_PAYLOAD_MAX_BYTES. */
  payload: z.string(),
  payloadEncoding: z.enum(['utf8', 'base64']),
  payloadBytes: z.number().int().nonnegative(),
  truncated: z.boolean(),
});
export type DeadLetterEntry = z.infer<typeof DeadLetterEntrySchema>;
