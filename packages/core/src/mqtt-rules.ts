/**
 * MQTT 3.1.1 (OASIS Standard, 29 October 2014) rules that Aedes 1.2 and its parser (mqtt-packet 9) let through.
 * Pure checks on packets as mqtt-packet parsed them; the broker's hooks call them and close the connection (with
 * the CONNACK return code the spec asks for, if any) when one fails. Each rule is named by its normative statement.
 *
 * Ill-formed UTF-8: mqtt-packet decodes strings without `fatal`, so an ill-formed sequence (an overlong form, an
 * encoded surrogate, a stray continuation byte) arrives here as U+FFFD. The raw bytes are gone, so a U+FFFD is
 * treated as ill-formed: no topic, client id or user name of ours contains one legitimately.
 */

export const MQTT_RULES = [
  /** Ill-formed UTF-8, including encoded surrogates U+D800..U+DFFF. */
  'MQTT-1.5.3-1',
  /** U+0000 in a UTF-8 string. */
  'MQTT-1.5.3-2',
  /** PUBLISH (QoS > 0), SUBSCRIBE and UNSUBSCRIBE carry a non-zero packet identifier. */
  'MQTT-2.3.1-1',
  /** Unsupported protocol level: CONNACK 0x01, then close. */
  'MQTT-3.1.2-2',
  /** Will QoS 3. */
  'MQTT-3.1.2-14',
  /** User name flag 0, yet a user name in the payload. */
  'MQTT-3.1.2-18',
  /** Password flag 0, yet a password in the payload. */
  'MQTT-3.1.2-20',
  /** Password flag 1 with user name flag 0. */
  'MQTT-3.1.2-22',
  /** Zero-byte ClientId with CleanSession 0: CONNACK 0x02, then close. */
  'MQTT-3.1.3-8',
  /** The Will Topic is a topic name: at least one character, no wildcards [MQTT-4.7.3-1], [MQTT-3.3.2-2]. */
  'MQTT-3.3.2-2',
  /** DUP set on a QoS 0 PUBLISH. */
  'MQTT-3.3.1-2',
  /** SUBSCRIBE with no topic filter. */
  'MQTT-3.8.3-3',
  /** UNSUBSCRIBE with no topic filter. */
  'MQTT-3.10.3-2',
  /** A Remaining Length longer than four bytes (section 2.2.3 allows at most four). */
  'MQTT-2.2.3',
] as const;
export type MqttRule = (typeof MQTT_RULES)[number];

export interface MqttViolation {
  rule: MqttRule;
  /** What was wrong, for logs. Never echoes a whole field (a client id can be 64 KiB). */
  detail: string;
  /** The CONNACK return code the spec requires before closing; absent: close without a CONNACK. */
  connackReturnCode?: 1 | 2;
}

/** The fields of a CONNECT as mqtt-packet parses them (`length` is the fixed header's Remaining Length). */
export interface ConnectFields {
  protocolId?: string;
  protocolVersion?: number;
  clean?: boolean;
  clientId: string;
  will?: { topic: string; payload: Uint8Array | string; qos?: number } | undefined;
  username?: string | undefined;
  password?: Uint8Array | undefined;
  length?: number;
}

export interface PublishFields {
  topic: string;
  qos: number;
  dup?: boolean;
  messageId?: number | undefined;
}

/** MQTT 3.1 (level 3, "MQIsdp") and 3.1.1 (level 4). Bit 7 is the bridge flag some brokers set; it is ignored. */
export function isSupportedProtocolLevel(level: number): boolean {
  const base = level & 0x7f;
  return base === 3 || base === 4;
}

/** Ill-formed UTF-8 or U+0000 in an MQTT string [MQTT-1.5.3-1], [MQTT-1.5.3-2]; `undefined` when it is fine. */
export function checkMqttString(value: string, what: string): MqttViolation | undefined {
  if (value.includes('\u0000')) return { rule: 'MQTT-1.5.3-2', detail: `${what} contains U+0000` };
  if (value.includes('\uFFFD')) return { rule: 'MQTT-1.5.3-1', detail: `${what} is not well-formed UTF-8` };
  return undefined;
}

/** Bytes of `value` in UTF-8, without allocating (packages/core has no Buffer). */
export function utf8ByteLength(value: string): number {
  let bytes = 0;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

const isTopicName = (topic: string) => topic.length > 0 && !topic.includes('+') && !topic.includes('#');

/**
 * The MQTT 3.1.1 rules of a CONNECT that the parser and Aedes do not enforce, in the order the spec implies: the
 * protocol level first (it decides how the rest is read), then the payload's fields.
 */
export function checkConnect(packet: ConnectFields): MqttViolation | undefined {
  const level = packet.protocolVersion ?? 4;
  if (!isSupportedProtocolLevel(level)) {
    return { rule: 'MQTT-3.1.2-2', detail: `protocol level ${level} is not supported (3.1 and 3.1.1 are)`, connackReturnCode: 1 };
  }
  const clientId = checkMqttString(packet.clientId, 'ClientId');
  if (clientId) return clientId;
  if (packet.clientId.length === 0 && packet.clean === false) {
    return { rule: 'MQTT-3.1.3-8', detail: 'a zero-byte ClientId needs CleanSession 1', connackReturnCode: 2 };
  }
  const { will } = packet;
  if (will) {
    if (will.qos === 3) return { rule: 'MQTT-3.1.2-14', detail: 'Will QoS is 3' };
    const topic = checkMqttString(will.topic, 'Will Topic');
    if (topic) return topic;
    if (!isTopicName(will.topic)) return { rule: 'MQTT-3.3.2-2', detail: 'Will Topic is empty or holds a wildcard' };
  }
  if (packet.password !== undefined && packet.username === undefined) {
    return { rule: 'MQTT-3.1.2-22', detail: 'password flag set without the user name flag' };
  }
  if (packet.username !== undefined) {
    const username = checkMqttString(packet.username, 'User Name');
    if (username) return username;
  }
  // mqtt-packet reads only the fields whose flags are set and ignores what follows, so a user name or password sent
  // with its flag at 0 shows as bytes beyond the last field.
  if (packet.length !== undefined) {
    const expected = connectRemainingLength(packet);
    if (packet.length > expected) {
      return packet.username === undefined
        ? { rule: 'MQTT-3.1.2-18', detail: `${packet.length - expected} bytes after the last field, with the user name flag at 0` }
        : { rule: 'MQTT-3.1.2-20', detail: `${packet.length - expected} bytes after the last field, with the password flag at 0` };
    }
  }
  return undefined;
}

/** The Remaining Length a CONNECT with exactly these fields has (MQTT 3.1/3.1.1: no properties). */
export function connectRemainingLength(packet: ConnectFields): number {
  const string = (s: string) => 2 + utf8ByteLength(s);
  const binary = (b: Uint8Array | string) => 2 + (typeof b === 'string' ? utf8ByteLength(b) : b.byteLength);
  // protocol name, level (1), connect flags (1), keep alive (2)
  let length = string(packet.protocolId ?? 'MQTT') + 4 + string(packet.clientId);
  if (packet.will) length += string(packet.will.topic) + binary(packet.will.payload);
  if (packet.username !== undefined) length += string(packet.username);
  if (packet.password !== undefined) length += binary(packet.password);
  return length;
}

/** The MQTT 3.1.1 rules of a PUBLISH that Aedes does not enforce; runs on every message, so cheapest first. */
export function checkPublish(packet: PublishFields): MqttViolation | undefined {
  if (packet.qos > 0 && packet.messageId === 0) return { rule: 'MQTT-2.3.1-1', detail: `QoS ${packet.qos} PUBLISH with packet identifier 0` };
  if (packet.qos === 0 && packet.dup === true) return { rule: 'MQTT-3.3.1-2', detail: 'DUP set on a QoS 0 PUBLISH' };
  return checkMqttString(packet.topic, 'Topic Name');
}

/** A SUBSCRIBE topic filter: Aedes checks wildcards and levels, not the encoding. */
export function checkTopicFilter(filter: string): MqttViolation | undefined {
  return checkMqttString(filter, 'Topic Filter');
}
