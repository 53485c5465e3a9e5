import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { createPacketReader, DISCONNECT, encodeConnect, encodePublish, markDuplicate, PINGREQ, type IncomingPacket } from './mqtt-codec.ts';

/** Everything mqtt-packet's parser makes of some bytes (protocol level 4). */
function parse(bytes: Buffer): mqttPacket.Packet[] {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const packets: mqttPacket.Packet[] = [];
  const errors: Error[] = [];
  parser.on('packet', (p) => packets.push(p));
  parser.on('error', (e: Error) => errors.push(e));
  parser.parse(bytes);
  expect(errors).toEqual([]);
  return packets;
}

describe('mqtt codec', () => {
  it('writes a CONNECT mqtt-packet reads back field for field', () => {
    const [packet] = parse(encodeConnect({ clientId: 'aq-medeu-0001', username: 'aq-medeu-0001', password: 'tok_é', keepaliveS: 60, clean: true }));
    expect(packet).toMatchObject({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'aq-medeu-0001', username: 'aq-medeu-0001', keepalive: 60, clean: true });
    expect((packet as mqttPacket.IConnectPacket).password?.toString()).toBe('tok_é');
    const [anonymous] = parse(encodeConnect({ clientId: 'x', keepaliveS: 0, clean: false }));
    expect(anonymous).toMatchObject({ cmd: 'connect', clientId: 'x', clean: false, keepalive: 0 });
    expect(anonymous).not.toHaveProperty('username');
  });

  it('writes PUBLISH at QoS 0 and 1, with lengths across every Remaining Length size, and the DUP flag', () => {
    const topic = Buffer.from('city/v1/airquality/aq-1/telemetry');
    for (const size of [0, 10, 120, 127, 128, 16_383, 16_384, 300_000]) {
      const payload = Buffer.alloc(size, 0x61);
      const [q0] = parse(encodePublish(topic, payload, 0)) as mqttPacket.IPublishPacket[];
      expect(q0).toMatchObject({ cmd: 'publish', qos: 0, topic: topic.toString(), dup: false });
      expect(Buffer.from(q0!.payload).equals(payload)).toBe(true);
      const packet = encodePublish(topic, payload, 1, 65_535);
      markDuplicate(packet);
      const [q1] = parse(packet) as mqttPacket.IPublishPacket[];
      expect(q1).toMatchObject({ qos: 1, messageId: 65_535, dup: true });
    }
    expect(parse(Buffer.concat([PINGREQ, DISCONNECT])).map((p) => p.cmd)).toEqual(['pingreq', 'disconnect']);
  });

  it('reads packets whatever the chunk boundaries', () => {
    const bytes = Buffer.concat([
      mqttPacket.generate({ cmd: 'connack', returnCode: 4, sessionPresent: false }),
      ...Array.from({ length: 50 }, (_, i) => mqttPacket.generate({ cmd: 'puback', messageId: i + 1 })),
      mqttPacket.generate({ cmd: 'pingresp' }),
      mqttPacket.generate({ cmd: 'publish', topic: 't/errors', payload: Buffer.alloc(200, 1), qos: 0, retain: false, dup: false }),
    ]);
    for (const step of [1, 2, 3, 7, 64, bytes.length]) {
      const seen: IncomingPacket[] = [];
      const feed = createPacketReader((p) => seen.push({ ...p, body: Buffer.from(p.body) }));
      for (let i = 0; i < bytes.length; i += step) feed(bytes.subarray(i, i + step));
      expect(seen.map((p) => p.type)).toEqual([2, ...Array<number>(50).fill(4), 13, 3]);
      expect(seen[0]!.body[1]).toBe(4);
      expect(seen.slice(1, 51).map((p) => p.body.readUInt16BE(0))).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(seen[52]!.body.length).toBe(2 + 8 + 200);
    }
  });
});
