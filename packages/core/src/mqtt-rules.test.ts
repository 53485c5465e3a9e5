import { describe, expect, it } from 'vitest';
import {
  checkConnect,
  checkPublish,
  checkTopicFilter,
  connectRemainingLength,
  isSupportedProtocolLevel,
  utf8ByteLength,
  type ConnectFields,
} from './mqtt-rules.ts';

/** A CONNECT as mqtt-packet parses it, its `length` what the wire said. */
function connect(fields: Partial<ConnectFields> = {}): ConnectFields {
  const packet: ConnectFields = { protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'aq-1', ...fields };
  return { ...packet, length: fields.length ?? connectRemainingLength(packet) };
}

describe('checkConnect', () => {
  it('accepts well-formed CONNECTs of MQTT 3.1 and 3.1.1', () => {
    expect(checkConnect(connect())).toBeUndefined();
    expect(checkConnect(connect({ protocolId: 'MQIsdp', protocolVersion: 3 }))).toBeUndefined();
    expect(checkConnect(connect({ clean: false, username: 'aq-1', password: new Uint8Array(32), will: { topic: 'city/v1/airquality/aq-1/status', payload: 'offline', qos: 1 } }))).toBeUndefined();
    expect(checkConnect(connect({ clientId: '', clean: true }))).toBeUndefined();
    expect(checkConnect(connect({ clientId: 'dévice-Ω-😀' }))).toBeUndefined();
  });

  it('answers an unsupported protocol level with CONNACK 0x01 [MQTT-3.1.2-2]', () => {
    expect(checkConnect(connect({ protocolVersion: 5 }))).toMatchObject({ rule: 'MQTT-3.1.2-2', connackReturnCode: 1 });
    expect(isSupportedProtocolLevel(0x84)).toBe(true);
    expect(isSupportedProtocolLevel(6)).toBe(false);
    expect(isSupportedProtocolLevel(0)).toBe(false);
  });

  it('answers a zero-byte ClientId with CleanSession 0 with CONNACK 0x02 [MQTT-3.1.3-8]', () => {
    expect(checkConnect(connect({ clientId: '', clean: false }))).toMatchObject({ rule: 'MQTT-3.1.3-8', connackReturnCode: 2 });
  });

  it('refuses U+0000 and ill-formed UTF-8 in the ClientId, User Name and Will Topic [MQTT-1.5.3-1/2]', () => {
    expect(checkConnect(connect({ clientId: 'a\u0000b' }))).toMatchObject({ rule: 'MQTT-1.5.3-2' });
    expect(checkConnect(connect({ clientId: 'a\uFFFDb' }))).toMatchObject({ rule: 'MQTT-1.5.3-1' });
    expect(checkConnect(connect({ username: 'u\u0000' }))).toMatchObject({ rule: 'MQTT-1.5.3-2' });
    expect(checkConnect(connect({ will: { topic: 't/\uFFFD', payload: '' } }))).toMatchObject({ rule: 'MQTT-1.5.3-1' });
  });

  it('refuses Will QoS 3 [MQTT-3.1.2-14] and a Will Topic that is not a topic name', () => {
    expect(checkConnect(connect({ will: { topic: 'a/b', payload: 'x', qos: 3 } }))).toMatchObject({ rule: 'MQTT-3.1.2-14' });
    expect(checkConnect(connect({ will: { topic: 'a/#', payload: 'x', qos: 1 } }))).toMatchObject({ rule: 'MQTT-3.3.2-2' });
    expect(checkConnect(connect({ will: { topic: '', payload: 'x', qos: 1 } }))).toMatchObject({ rule: 'MQTT-3.3.2-2' });
  });

  it('refuses a password without a user name [MQTT-3.1.2-22]', () => {
    expect(checkConnect(connect({ password: new Uint8Array(4) }))).toMatchObject({ rule: 'MQTT-3.1.2-22' });
  });

  it('refuses bytes after the last field: a user name or password sent with its flag at 0 [MQTT-3.1.2-18/20]', () => {
    const base = connect();
    expect(checkConnect({ ...base, length: base.length! + 2 + 4 })).toMatchObject({ rule: 'MQTT-3.1.2-18' });
    const withUser = connect({ username: 'aq-1' });
    expect(checkConnect({ ...withUser, length: withUser.length! + 2 + 8 })).toMatchObject({ rule: 'MQTT-3.1.2-20' });
  });
});

describe('checkPublish', () => {
  it('accepts QoS 0 without an identifier and QoS 1/2 with a non-zero one', () => {
    expect(checkPublish({ topic: 'city/v1/airquality/aq-1/telemetry', qos: 0 })).toBeUndefined();
    expect(checkPublish({ topic: 'city/v1/airquality/aq-1/telemetry', qos: 1, messageId: 1, dup: true })).toBeUndefined();
    expect(checkPublish({ topic: 'a', qos: 2, messageId: 65535 })).toBeUndefined();
  });

  it('refuses packet identifier 0 on QoS > 0 [MQTT-2.3.1-1] and DUP on QoS 0 [MQTT-3.3.1-2]', () => {
    expect(checkPublish({ topic: 'a', qos: 1, messageId: 0 })).toMatchObject({ rule: 'MQTT-2.3.1-1' });
    expect(checkPublish({ topic: 'a', qos: 2, messageId: 0 })).toMatchObject({ rule: 'MQTT-2.3.1-1' });
    expect(checkPublish({ topic: 'a', qos: 0, dup: true })).toMatchObject({ rule: 'MQTT-3.3.1-2' });
  });

  it('refuses U+0000 and ill-formed UTF-8 in the topic [MQTT-1.5.3-1/2]', () => {
    expect(checkPublish({ topic: 'city/\u0000', qos: 0 })).toMatchObject({ rule: 'MQTT-1.5.3-2' });
    expect(checkPublish({ topic: 'city/\uFFFD', qos: 1, messageId: 3 })).toMatchObject({ rule: 'MQTT-1.5.3-1' });
  });
});

describe('checkTopicFilter', () => {
  it('refuses U+0000 and ill-formed UTF-8, accepts the rest (Aedes checks wildcards)', () => {
    expect(checkTopicFilter('city/v1/alerts/#')).toBeUndefined();
    expect(checkTopicFilter('city/\u0000/#')).toMatchObject({ rule: 'MQTT-1.5.3-2' });
    expect(checkTopicFilter('\uFFFD')).toMatchObject({ rule: 'MQTT-1.5.3-1' });
  });
});

describe('utf8ByteLength', () => {
  it('counts like an encoder, surrogate pairs as four bytes', () => {
    for (const s of ['', 'aq-1', 'é', 'Ω€', '😀', 'a😀b', '\uD800x']) {
      expect(utf8ByteLength(s)).toBe(new TextEncoder().encode(s).byteLength);
    }
  });
});
