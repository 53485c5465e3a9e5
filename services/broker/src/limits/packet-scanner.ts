import { isSupportedProtocolLevel, type MqttRule } from '@city/core';

export interface ScanViolation {
  reason: 'packet_too_large' | 'bytes_before_connack' | 'protocol_violation';
  /** The MQTT 3.1.1 clause broken, for protocol violations. */
  rule?: MqttRule;
}

// One object per outcome, made once: the scanner allocates nothing per byte, per packet or per chunk.
const TOO_LARGE: ScanViolation = Object.freeze({ reason: 'packet_too_large' });
const BEFORE_CONNACK: ScanViolation = Object.freeze({ reason: 'bytes_before_connack' });
const violation = (rule: MqttRule): ScanViolation => Object.freeze({ reason: 'protocol_violation', rule });
const LENGTH_TOO_LONG = violation('MQTT-2.2.3');
const PACKET_ID_ZERO = violation('MQTT-2.3.1-1');
const PROTOCOL_LEVEL = violation('MQTT-3.1.2-2');
const SUBSCRIBE_EMPTY = violation('MQTT-3.8.3-3');
const UNSUBSCRIBE_EMPTY = violation('MQTT-3.10.3-2');

const TYPE = 0;
const LENGTH = 1;
const BODY = 2;
const CONNECT = 1;
const SUBSCRIBE = 8;
const UNSUBSCRIBE = 10;
/** "MQIsdp", the longest protocol name; a longer one is the parser's to refuse. */
const MAX_PROTOCOL_NAME = 6;

/**
 * Follows the MQTT packets of one connection as bytes arrive, reading only fixed headers (and the first bytes of
 * the rare CONNECT, SUBSCRIBE and UNSUBSCRIBE), and skipping bodies by arithmetic. It reports a packet whose
 * declared size is over the limit from its fixed header, before the body exists anywhere in memory.
 *
 * Rules checked here because no Aedes hook sees them, or sees them too late:
 * - [MQTT-3.1.2-2] an unsupported protocol level: the parser would drop the connection without the CONNACK 0x01
 *   the spec requires.
 * - [MQTT-3.10.3-2] UNSUBSCRIBE without a filter: Aedes has no unsubscribe hook. [MQTT-3.8.3-3] SUBSCRIBE without a
 *   filter: Aedes answers an empty SUBACK and never calls authorizeSubscribe. Both are a Remaining Length of 2.
 * - [MQTT-2.3.1-1] packet identifier 0 on SUBSCRIBE/UNSUBSCRIBE (authorizeSubscribe gets no packet identifier).
 * - Section 2.2.3: a Remaining Length of more than four bytes.
 * Pure: no IO, no clock. One instance per connection.
 */
export class PacketScanner {
  /** Set once the CONNACK is sent: from then on `maxPacketBytes` applies instead of the pre-CONNACK budget. */
  connected = false;
  /** Size (fixed header included) the last packet declared, for logs. */
  declaredBytes = 0;

  private state = TYPE;
  private type = 0;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private remaining = 0;
  private peeking = false;
  private offset = 0;
  private word = 0;
  private budget: number;

  constructor(
    private readonly maxPacketBytes: number,
    maxBytesBeforeConnack: number,
  ) {
    this.budget = maxBytesBeforeConnack;
  }

  /** Follows one chunk; returns what is wrong with it, or `undefined`. After a violation the scanner is spent. */
  scan(chunk: Uint8Array): ScanViolation | undefined {
    const end = chunk.length;
    let i = 0;
    while (i < end) {
      if (this.state === BODY) {
        if (!this.peeking) {
          const skip = Math.min(this.remaining, end - i);
          i += skip;
          this.remaining -= skip;
        } else {
          this.remaining--;
          const wrong = this.peek(chunk[i++]!);
          if (wrong) return wrong;
        }
        if (this.remaining === 0) this.state = TYPE;
      } else if (this.state === TYPE) {
        this.type = chunk[i++]! >> 4;
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        this.state = LENGTH;
      } else {
        const byte = chunk[i++]!;
        this.length += (byte & 0x7f) * this.multiplier;
        this.lengthBytes++;
        if (byte & 0x80) {
          if (this.lengthBytes === 4) return LENGTH_TOO_LONG;
          this.multiplier *= 128;
          continue;
        }
        const wrong = this.headerDone();
        if (wrong) return wrong;
      }
    }
    return undefined;
  }

  private headerDone(): ScanViolation | undefined {
    const total = 1 + this.lengthBytes + this.length;
    this.declaredBytes = total;
    if (this.connected) {
      if (total > this.maxPacketBytes) return TOO_LARGE;
    } else {
      if (total > this.budget) return BEFORE_CONNACK;
      this.budget -= total;
    }
    const type = this.type;
    if (this.length === 2) {
      if (type === SUBSCRIBE) return SUBSCRIBE_EMPTY;
      if (type === UNSUBSCRIBE) return UNSUBSCRIBE_EMPTY;
    }
    this.peeking = type === CONNECT || type === SUBSCRIBE || type === UNSUBSCRIBE;
    this.offset = 0;
    this.remaining = this.length;
    this.state = this.length === 0 ? TYPE : BODY;
    return undefined;
  }

  /** The first body bytes: the packet identifier of (UN)SUBSCRIBE; the protocol name length and level of CONNECT. */
  private peek(byte: number): ScanViolation | undefined {
    const offset = this.offset++;
    if (offset === 0) {
      this.word = byte << 8;
      return undefined;
    }
    if (offset === 1) {
      this.word |= byte;
      if (this.type !== CONNECT) {
        this.peeking = false;
        return this.word === 0 ? PACKET_ID_ZERO : undefined;
      }
      if (this.word > MAX_PROTOCOL_NAME) this.peeking = false;
      return undefined;
    }
    if (offset === 2 + this.word) {
      this.peeking = false;
      return isSupportedProtocolLevel(byte) ? undefined : PROTOCOL_LEVEL;
    }
    return undefined;
  }
}
