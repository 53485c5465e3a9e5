import { describe, expect, it } from 'vitest';
import type { AlertEvent } from '@city/schema';
import { WebhooksEnvSchema, signWebhook, verifyWebhook, webhookWants } from './webhooks.ts';

const SECRET = 'a-secret-of-32-characters-------';
const body = '{"id":"pm25:aq-1:1"}';

describe('webhook signatures', () => {
  const ts = 1_768_464_000;
  const signature = signWebhook(SECRET, ts, body);

  it('is HMAC-SHA256 over "{timestamp}.{body}" in hex', () => {
    // echo -n '1768464000.{"id":"pm25:aq-1:1"}' | openssl dgst -sha256 -hmac 'a-secret-of-32-characters-------'
    expect(signature).toBe('sha256=10e3bb7c678e7f2590045ed8534d9fb1277396f54b797cf568fcfd1bce53eddb');
  });

  it.each<[string, string, number, string, boolean]>([
    ['a genuine delivery', body, ts, signature, true],
    ['a changed body', body.replace('1', '2'), ts, signature, false],
    ['another secret', body, ts, signWebhook('another-secret-of-32-characters-', ts, body), false],
    ['a replay of an old delivery', body, ts - 301, signWebhook(SECRET, ts - 301, body), false],
    ['a new timestamp on an old signature', body, ts + 10, signature, false],
  ])('verifies %s: %s', (_name, b, t, sig, ok) => {
    expect(verifyWebhook(SECRET, { timestamp: String(t), signature: sig }, b, ts)).toBe(ok);
  });
});

describe('ALERT_WEBHOOKS', () => {
  it('parses the JSON list with defaults, and names what is wrong', () => {
    expect(WebhooksEnvSchema.parse(`[{"id":"ops","url":"https://ops.example/alerts","secret":"${SECRET}"}]`)).toEqual([
      { id: 'ops', url: 'https://ops.example/alerts', secret: SECRET, minSeverity: 'informational' },
    ]);
    expect(WebhooksEnvSchema.parse(undefined)).toEqual([]);
    const bad = WebhooksEnvSchema.safeParse('[{"id":"ops","url":"ftp://x","secret":"short"},{"id":"ops","url":"http://a/b","secret":"' + SECRET + '"}]');
    expect(bad.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      expect.stringMatching(/^0\.url: /),
      '0.secret: secret must be at least 16 characters',
      '1.id: duplicate webhook id "ops"',
    ]);
    expect(WebhooksEnvSchema.safeParse('not json').error?.issues[0]?.message).toMatch(/JSON array/);
  });

  it('filters by severity, transition and rule; silenced events go to no webhook', () => {
    const event = { severity: 'medium', transition: 'raised', rule: 'pm25', silenced: false } as AlertEvent;
    const hook = { id: 'h', url: 'http://x/y', secret: SECRET, minSeverity: 'medium' as const };
    expect(webhookWants(hook, event)).toBe(true);
    expect(webhookWants({ ...hook, minSeverity: 'high' }, event)).toBe(false);
    expect(webhookWants({ ...hook, transitions: ['resolved'] }, event)).toBe(false);
    expect(webhookWants({ ...hook, rules: ['o3'] }, event)).toBe(false);
    expect(webhookWants(hook, { ...event, silenced: true })).toBe(false);
  });
});
