import { describe, expect, it } from 'vitest';
import { PacketScanner } from './packet-scanner.ts';

/** Fixed header: type/flags byte, then Remaining Length as an MQTT variable byte integer. */
function header(first: number, length: number): number[] {
  const bytes = [first];
  do {
    let digit = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) digit |= 0x80;
    bytes.push(digit);
  } while (length > 0);
  return bytes;
}
const packet = (first: number, body: number[]) => [...header(first, body.length), ...body];
const ascii = (s: string) => [s.length >> 8, s.length & 0xff, ...Buffer.from(s)];
/** CONNECT, clean session, keep alive 60, client id "d". */
const connect = (name = 'MQTT', level = 4) => packet(0x10, [...ascii(name), level, 0x02, 0, 60, ...ascii('d')]);
const publish = (payloadBytes: number) => packet(0x30, [...ascii('t/1'), ...new Array<number>(payloadBytes).fill(0x41)]);

function scanner(maxPacketBytes = 1024, maxBytesBeforeConnack = 64) {
  return new PacketScanner(maxPacketBytes, maxBytesBeforeConnack);
}

describe('PacketScanner', () => {
  it('follows packets across any chunking, one byte at a time or all at once', () => {
    const stream = [...connect(), ...publish(10), ...packet(0xc0, []), ...publish(300)];
    const whole = scanner(1024, 1024);
    expect(whole.scan(Buffer.from(stream))).toBeUndefined();
    const bytewise = scanner(1024, 1024);
    for (const byte of stream) expect(bytewise.scan(Buffer.from([byte]))).toBeUndefined();
    expect(bytewise.declaredBytes).toBe(publish(300).length);
  });

  it('cuts a packet over the limit from its fixed header, before any of its body', () => {
    const s = scanner(1024, 64);
    expect(s.scan(Buffer.from(connect()))).toBeUndefined();
    s.connected = true;
    expect(s.scan(Buffer.from(publish(1000)))).toBeUndefined();
    // 256 MiB declared: the 5 header bytes are enough to refuse it
    expect(s.scan(Buffer.from(header(0x30, 268_435_455)))).toEqual({ reason: 'packet_too_large' });
    expect(s.declaredBytes).toBe(268_435_460);
  });

  it('before CONNACK, counts every packet against a small budget', () => {
    const s = scanner(1024, 64);
    expect(s.scan(Buffer.from(connect()))).toBeUndefined(); // 17 bytes
    expect(s.scan(Buffer.from(publish(35)))).toBeUndefined(); // 42 bytes: 59 of 64
    expect(s.scan(Buffer.from(packet(0xc0, [])))).toBeUndefined(); // 61
    expect(s.scan(Buffer.from(publish(1)))).toEqual({ reason: 'bytes_before_connack' });
    expect(scanner(1024, 64).scan(Buffer.from(header(0x10, 65_535 + 12)))).toEqual({ reason: 'bytes_before_connack' });
  });

  it('refuses a Remaining Length of five bytes (section 2.2.3)', () => {
    expect(scanner().scan(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toEqual({ reason: 'protocol_violation', rule: 'MQTT-2.2.3' });
  });

  it('refuses unsupported protocol levels, accepts 3.1 and 3.1.1 [MQTT-3.1.2-2]', () => {
    expect(scanner().scan(Buffer.from(connect('MQTT', 4)))).toBeUndefined();
    expect(scanner().scan(Buffer.from(connect('MQIsdp', 3)))).toBeUndefined();
    for (const level of [0, 2, 5, 6, 255]) {
      expect(scanner().scan(Buffer.from(connect('MQTT', level)))).toEqual({ reason: 'protocol_violation', rule: 'MQTT-3.1.2-2' });
    }
    const split = scanner();
    const verdicts = connect('MQTT', 7).map((byte) => split.scan(Buffer.from([byte]))?.rule);
    expect(verdicts.indexOf('MQTT-3.1.2-2')).toBe(2 + 6); // the level byte: after the header (2) and "\0\4MQTT" (6)
  });

  it('refuses SUBSCRIBE/UNSUBSCRIBE without filters [MQTT-3.8.3-3, MQTT-3.10.3-2] or with packet id 0 [MQTT-2.3.1-1]', () => {
    const connected = () => {
      const s = scanner();
      s.connected = true;
      return s;
    };
    expect(connected().scan(Buffer.from(packet(0x82, [0, 1, ...ascii('a/b'), 1])))).toBeUndefined();
    expect(connected().scan(Buffer.from(packet(0xa2, [0, 1, ...ascii('a/b')])))).toBeUndefined();
    expect(connected().scan(Buffer.from(packet(0x82, [0, 1])))).toEqual({ reason: 'protocol_violation', rule: 'MQTT-3.8.3-3' });
    expect(connected().scan(Buffer.from(packet(0xa2, [0, 1])))).toEqual({ reason: 'protocol_violation', rule: 'MQTT-3.10.3-2' });
    expect(connected().scan(Buffer.from(packet(0x82, [0, 0, ...ascii('a/b'), 1])))).toEqual({ reason: 'protocol_violation', rule: 'MQTT-2.3.1-1' });
    expect(connected().scan(Buffer.from(packet(0xa2, [0, 0, ...ascii('a/b')])))).toEqual({ reason: 'protocol_violation', rule: 'MQTT-2.3.1-1' });
  });
});
