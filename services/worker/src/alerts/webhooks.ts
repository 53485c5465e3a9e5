import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ALERT_TRANSITIONS, SEVERITIES, SeveritySchema, type AlertEvent } from '@city/schema';

/** One webhook, from `ALERT_WEBHOOKS` (JSON array). The secret never leaves the worker's config. */
export const WebhookSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, { error: 'id must be a lowercase slug' }),
    url: z.url({ protocol: /^https?$/ }),
    secret: z.string().min(16, { error: 'secret must be at least 16 characters' }),
    /** Events below this severity are not sent. */
    minSeverity: SeveritySchema.default('informational'),
    /** Only these transitions; all when absent. */
    transitions: z.array(z.enum(ALERT_TRANSITIONS)).min(1).optional(),
    /** Only these rules; all when absent. */
    rules: z.array(z.string()).min(1).optional(),
  })
  .strict();
export type Webhook = z.infer<typeof WebhookSchema>;

/** `ALERT_WEBHOOKS`: a JSON array of webhooks; empty by default. */
export const WebhooksEnvSchema = z
  .string()
  .default('[]')
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON array of {id, url, secret, minSeverity?, transitions?, rules?}' });
      return z.NEVER;
    }
  })
  .pipe(
    z.array(WebhookSchema).superRefine((hooks, ctx) => {
      const ids = hooks.map((h) => h.id);
      ids.forEach((id, i) => {
        if (ids.indexOf(id) !== i) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate webhook id "${id}"` });
      });
    }),
  );

/** Does this webhook want this event? Silenced events go nowhere but the history. */
export function webhookWants(hook: Webhook, event: AlertEvent): boolean {
  return (
    !event.silenced &&
    SEVERITIES.indexOf(event.severity) >= SEVERITIES.indexOf(hook.minSeverity) &&
    (hook.transitions === undefined || hook.transitions.includes(event.transition)) &&
    (hook.rules === undefined || hook.rules.includes(event.rule))
  );
}

export const WEBHOOK_HEADERS = {
  eventId: 'x-city-event-id',
  /** Unix seconds when this attempt was signed. */
  timestamp: 'x-city-timestamp',
  /** `sha256=` + hex HMAC-SHA256(secret, `{timestamp}.{body}`). */
  signature: 'x-city-signature',
} as const;

/**
 * The signature of one delivery: HMAC-SHA256 with the hook's secret over `{timestamp}.{raw body}`. Signing the
 * timestamp with the body lets a receiver reject replays (an old timestamp) as well as forgeries.
 */
export function signWebhook(secret: string, timestampS: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestampS}.${body}`).digest('hex')}`;
}

/** For receivers: a constant-time check of the signature, and of the timestamp within `toleranceS` of `nowS`. */
export function verifyWebhook(secret: string, headers: { timestamp?: string; signature?: string }, body: string, nowS: number, toleranceS = 300): boolean {
  const timestamp = Number(headers.timestamp);
  if (!Number.isInteger(timestamp) || Math.abs(nowS - timestamp) > toleranceS || headers.signature === undefined) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const actual = Buffer.from(headers.signature);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
