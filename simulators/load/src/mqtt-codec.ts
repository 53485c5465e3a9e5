/**
 * The few MQTT 3.1.1 packets a load-generating device needs: CONNECT, PUBLISH (QoS 0/1), PINGREQ, DISCONNECT out;
 * CONNACK, PUBACK, PINGRESP in. Thousands of mqtt.js clients in one process cost more CPU and memory than the broker
 * they load; this costs a few allocations per message. mqtt-packet checks it in the tests.
 */

/** Packet types (the fixed header's high nibble) [MQTT-2.2.1]. */
export const PACKET = { connect: 1, connack: 2, publish: 3, puback: 4, subscribe: 8, suback: 9, pingreq: 12, pingresp: 13, disconnect: 14 } as const;

export const PINGREQ = Buffer.from([0xc0, 0x00]);
export const DISCONNECT = Buffer.from([0xe0, 0x00]);

/** Bytes of a Remaining Length [MQTT-2.2.3]: 1 to 4. */
function remainingLengthSize(length: number): number {
  if (length < 128) return 1;
  if (length < 16_384) return 2;
  if (length < 2_097_152) return 3;
  if (length < 268_435_456) return 4;
  throw new RangeError(`remaining length ${length} is over the MQTT maximum`);
}

function writeRemainingLength(buf: Buffer, offset: number, length: number): number {
  let value = length;
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    buf[offset++] = byte;
  } while (value > 0);
  return offset;
}

function writeString(buf: Buffer, offset: number, bytes: Buffer): number {
  buf.writeUInt16BE(bytes.length, offset);
  bytes.copy(buf, offset + 2);
  return offset + 2 + bytes.length;
}

export interface ConnectOptions {
  clientId: string;
  username?: string;
  password?: string;
  /** Seconds; 0 turns keep-alive off. */
  keepaliveS: number;
  clean: boolean;
}

/** A CONNECT packet, protocol level 4 (MQTT 3.1.1). */
export function encodeConnect({ clientId, username, password, keepaliveS, clean }: ConnectOptions): Buffer {
  const id = Buffer.from(clientId, 'utf8');
  const user = username !== undefined ? Buffer.from(username, 'utf8') : undefined;
  const pass = password !== undefined ? Buffer.from(password, 'utf8') : undefined;
  const length = 10 + 2 + id.length + (user ? 2 + user.length : 0) + (pass ? 2 + pass.length : 0);
  const buf = Buffer.allocUnsafe(1 + remainingLengthSize(length) + length);
  buf[0] = PACKET.connect << 4;
  let o = writeRemainingLength(buf, 1, length);
  o = writeString(buf, o, Buffer.from('MQTT'));
  buf[o++] = 4;
  // [MQTT-3.1.2-22]: a password only with a user name.
  buf[o++] = (user ? 0x80 : 0) | (user && pass ? 0x40 : 0) | (clean ? 0x02 : 0);
  buf.writeUInt16BE(keepaliveS, o);
  o = writeString(buf, o + 2, id);
  if (user) o = writeString(buf, o, user);
  if (user && pass) writeString(buf, o, pass);
  return buf;
}

/** A PUBLISH packet. `packetId` is required for QoS 1 [MQTT-2.3.1-1]: 1..65535. */
export function encodePublish(topic: Buffer, payload: Buffer, qos: 0 | 1, packetId = 0, dup = false): Buffer {
  const length = 2 + topic.length + (qos > 0 ? 2 : 0) + payload.length;
  const buf = Buffer.allocUnsafe(1 + remainingLengthSize(length) + length);
  buf[0] = (PACKET.publish << 4) | (dup ? 0x08 : 0) | (qos << 1);
  let o = writeRemainingLength(buf, 1, length);
  o = writeString(buf, o, topic);
  if (qos > 0) {
    buf.writeUInt16BE(packetId, o);
    o += 2;
  }
  payload.copy(buf, o);
  return buf;
}

/** Sets the DUP flag of an encoded PUBLISH, for its retransmission [MQTT-3.3.1-1]. */
export function markDuplicate(packet: Buffer): void {
  packet[0] = packet[0]! | 0x08;
}

export interface IncomingPacket {
  type: number;
  flags: number;
  body: Buffer;
}

/**
 * Splits a byte stream into packets, across chunk boundaries. Returns a function to feed chunks to; it calls
 * `onPacket` for each complete packet. A malformed Remaining Length throws.
 */
export function createPacketReader(onPacket: (packet: IncomingPacket) => void): (chunk: Buffer) => void {
  let pending: Buffer | undefined;
  return (chunk) => {
    let buf = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = undefined;
    let offset = 0;
    while (buf.length - offset >= 2) {
      let length = 0;
      let multiplier = 1;
      let i = offset + 1;
      let complete = false;
      for (; i < buf.length && i < offset + 5; i++) {
        const byte = buf[i]!;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if ((byte & 0x80) === 0) {
          complete = true;
          i++;
          break;
        }
      }
      if (!complete) {
        if (i >= offset + 5) throw new RangeError('malformed Remaining Length');
        break;
      }
      if (buf.length < i + length) break;
      const first = buf[offset]!;
      onPacket({ type: first >> 4, flags: first & 0x0f, body: buf.subarray(i, i + length) });
      offset = i + length;
    }
    if (offset < buf.length) pending = Buffer.from(buf.subarray(offset));
    buf = Buffer.alloc(0);
  };
}
