import { isFamily, type Family } from './families.ts';

/**
 * Topic grammar, version 1. Devices publish to `city/v1/{family}/{deviceId}/telemetry`;
 * operators subscribe to `city/v1/alerts/{severity}/{family}/{deviceId}`.
 * A breaking change to the grammar gets a new version segment, never an edit of this one.
 */
export const TOPIC_ROOT = 'city/v1';
export const ALERT_TOPIC_ROOT = `${TOPIC_ROOT}/alerts`;

/** Device ids: what a city inventory uses (letters, digits, `.`, `_`, `-`), bounded so they fit a tag. */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export type ParsedTopic =
  | { kind: 'telemetry'; family: Family; deviceId: string }
  | { kind: 'alert' }
  | { kind: 'invalid'; reason: 'unknown_topic' | 'unknown_family' | 'invalid_device_id'; detail: string };

export function telemetryTopic(family: Family, deviceId: string): string {
  return `${TOPIC_ROOT}/${family}/${deviceId}/telemetry`;
}

/** Where the broker tells a device why its payload was rejected; only that device may subscribe to it. */
export function deviceErrorsTopic(family: Family, deviceId: string): string {
  return `${TOPIC_ROOT}/${family}/${deviceId}/errors`;
}

export function alertTopic(severity: string, family: string, deviceId: string): string {
  return `${ALERT_TOPIC_ROOT}/${severity}/${family}/${deviceId}`;
}

export function parseTopic(topic: string): ParsedTopic {
  if (topic.startsWith(`${ALERT_TOPIC_ROOT}/`)) return { kind: 'alert' };
  const parts = topic.split('/');
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}` !== TOPIC_ROOT || parts[4] !== 'telemetry') {
    return { kind: 'invalid', reason: 'unknown_topic', detail: `topic "${topic}" is not ${TOPIC_ROOT}/{family}/{deviceId}/telemetry` };
  }
  const family = parts[2] as string;
  const deviceId = parts[3] as string;
  if (!isFamily(family)) return { kind: 'invalid', reason: 'unknown_family', detail: `unknown sensor family "${family}"` };
  if (!DEVICE_ID_PATTERN.test(deviceId)) {
    return { kind: 'invalid', reason: 'invalid_device_id', detail: `device id "${deviceId}" must match ${DEVICE_ID_PATTERN.source}` };
  }
  return { kind: 'telemetry', family, deviceId };
}
