import { ALERT_TOPIC_ROOT, DEVICE_ID_PATTERN, TOPIC_ROOT, isFamily, type Family } from '@city/schema';

/**
 * Who may publish and subscribe to what. Pure: the broker's hooks ask, this answers.
 *
 * - A device (username = client id = device id, or a client certificate naming it) publishes only to its own
 *   `city/v1/{family}/{deviceId}/telemetry` and `.../status`, `{family}` being the family it is registered with,
 *   and subscribes only to its own `.../command` and `.../errors` (rejection reasons for its payloads). Exact topics:
 *   no wildcards, no `$SYS`.
 * - An `operator` account subscribes to alerts (`city/v1/alerts/...`, wildcards allowed) and to device status
 *   (`city/v1/{family|+}/{deviceId|+}/status`). It publishes nothing.
 * - A `service` account (the worker's alert role) publishes alerts and subscribes to nothing.
 * - Nobody touches `$SYS` (it names clients and their subscriptions).
 * A filter is allowed only if every topic it can match is allowed: `city/v1/#` would include telemetry, so no one
 * may subscribe to it.
 */
export const OPERATOR_ROLES = ['operator', 'service'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

export type Principal =
  | { kind: 'device'; deviceId: string; family: Family }
  | { kind: 'operator'; name: string; role: OperatorRole };

export const ACCESS_DENIED_REASONS = ['sys_topic', 'wildcard', 'not_own_topic', 'role_not_permitted', 'unauthenticated'] as const;
export type AccessDeniedReason = (typeof ACCESS_DENIED_REASONS)[number];

export type AccessDecision = { allowed: true } | { allowed: false; reason: AccessDeniedReason; detail: string };

/** The four topics of one device. */
export type DeviceChannel = 'telemetry' | 'status' | 'command' | 'errors';

export function deviceTopic(family: Family, deviceId: string, channel: DeviceChannel): string {
  return `${TOPIC_ROOT}/${family}/${deviceId}/${channel}`;
}

const ALLOWED: AccessDecision = { allowed: true };
const deny = (reason: AccessDeniedReason, detail: string): AccessDecision => ({ allowed: false, reason, detail });

const isSys = (topic: string) => topic.startsWith('$');
const hasWildcard = (topic: string) => topic.includes('+') || topic.includes('#');
const [ROOT_0, ROOT_1] = TOPIC_ROOT.split('/') as [string, string];
const ALERT_LEVEL = ALERT_TOPIC_ROOT.split('/')[2]!;

function describe(principal: Principal): string {
  return principal.kind === 'device' ? `device ${principal.deviceId}` : `${principal.role} ${principal.name}`;
}

/** May `principal` publish to `topic` (a topic name: Aedes has already refused wildcards in PUBLISH)? */
export function canPublish(principal: Principal, topic: string): AccessDecision {
  if (isSys(topic)) return deny('sys_topic', `${describe(principal)} may not publish to ${topic}`);
  if (principal.kind === 'device') {
    const { family, deviceId } = principal;
    if (topic === deviceTopic(family, deviceId, 'telemetry') || topic === deviceTopic(family, deviceId, 'status')) return ALLOWED;
    return deny('not_own_topic', `device ${deviceId} may publish only to ${deviceTopic(family, deviceId, 'telemetry')} and .../status, not ${topic}`);
  }
  if (principal.role === 'service' && topic.startsWith(`${ALERT_TOPIC_ROOT}/`)) return ALLOWED;
  return deny('role_not_permitted', `${describe(principal)} may not publish to ${topic}`);
}

/** A status filter an operator may hold: `city/v1/{family|+}/{deviceId|+}/status`. */
function isStatusFilter(levels: readonly string[]): boolean {
  if (levels.length !== 5 || levels[0] !== ROOT_0 || levels[1] !== ROOT_1 || levels[4] !== 'status') return false;
  const [family, deviceId] = [levels[2]!, levels[3]!];
  return (family === '+' || isFamily(family)) && (deviceId === '+' || DEVICE_ID_PATTERN.test(deviceId));
}

/** May `principal` subscribe to `filter` (a topic filter, possibly with wildcards)? */
export function canSubscribe(principal: Principal, filter: string): AccessDecision {
  if (isSys(filter)) return deny('sys_topic', `${describe(principal)} may not subscribe to ${filter}`);
  if (principal.kind === 'device') {
    const { family, deviceId } = principal;
    if (hasWildcard(filter)) return deny('wildcard', `device ${deviceId} may not subscribe with wildcards (${filter})`);
    if (filter === deviceTopic(family, deviceId, 'command') || filter === deviceTopic(family, deviceId, 'errors')) return ALLOWED;
    return deny('not_own_topic', `device ${deviceId} may subscribe only to ${deviceTopic(family, deviceId, 'command')} and .../errors, not ${filter}`);
  }
  if (principal.role === 'operator') {
    const levels = filter.split('/');
    if (levels[0] === ROOT_0 && levels[1] === ROOT_1 && levels[2] === ALERT_LEVEL) return ALLOWED;
    if (isStatusFilter(levels)) return ALLOWED;
  }
  return deny('role_not_permitted', `${describe(principal)} may not subscribe to ${filter}`);
}
