import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Gives a resent PUBLISH the receive time of its first delivery, so readings that take their event time from the
 * broker (no `ts`, or a relative SenML time) land on the same InfluxDB point instead of a second one.
 *
 * What identifies a resend. MQTT 3.1.1 lets a client redeliver an unacknowledged QoS 1/2 PUBLISH only on a new
 * connection [MQTT-4.4.0-1], with the same packet id; it "MUST" set DUP [MQTT-3.3.1-1], but mqtt.js 5 does not (it
 * replays its outgoing store with `dup: false`, client.js `_onConnect`), so DUP cannot be relied on. A resend is
 * therefore: the same client id, the same packet id, byte-identical payload, arriving on a *later connection* than
 * the first, within `windowMs`. On the same connection a packet id is only reused after its PUBACK, so a repeat there
 * is a new reading and keeps its own time.
 *
 * Bounded: one Redis key per QoS>0 message that relies on the receive time, expiring after `windowMs`; nothing for
 * readings with `ts` (their point is already deterministic). The check and the update are one Lua script, so two
 * brokers seeing the same resend agree. The first delivery's key is written as it arrives, before its PUBACK can be
 * sent, so a resend (which needs a reconnect) finds it.
 */
export interface ResendGuardOptions {
  /** The Redis the broker enqueues to (a producer connection). */
  redis: () => Promise<Redis> | Redis;
  /** Key prefix shared with the queues. */
  prefix: string;
  /**
   * How long after a delivery a resend is still recognised; a device that reconnects later gets a second point.
   * 0 turns recognition off.
   * @defaultValue 120000
   */
  windowMs?: number;
}

export interface ResendInput {
  clientId: string;
  /** The network connection the PUBLISH came on (Aedes's client object): identity only. */
  connection: object;
  messageId: number;
  payload: Uint8Array;
  receivedAt: number;
}

export interface ResendGuard {
  /** The receive time of the message's first delivery: `receivedAt` itself unless this is a resend. */
  firstReceivedAt(input: ResendInput): Promise<number>;
}

// KEYS[1]: the message key. ARGV: connection token, payload hash, receive time (ms), window (ms).
// Stored value: "{connection}|{hash}|{first receive time}".
const SCRIPT = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local conn, hash, at = string.match(cur, '^([^|]*)|([^|]*)|(%d+)$')
  if hash == ARGV[2] and conn ~= ARGV[1] then
    redis.call('SET', KEYS[1], ARGV[1] .. '|' .. hash .. '|' .. at, 'PX', ARGV[4])
    return at
  end
end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2] .. '|' .. ARGV[3], 'PX', ARGV[4])
return ARGV[3]
`;
const SHA = createHash('sha1').update(SCRIPT).digest('hex');

export function createResendGuard({ redis, prefix, windowMs = 120_000 }: ResendGuardOptions): ResendGuard {
  if (windowMs <= 0) return { firstReceivedAt: ({ receivedAt }) => Promise.resolve(receivedAt) };
  // One token per connection object, unique across broker processes.
  const processToken = randomUUID();
  let next = 0;
  const tokens = new WeakMap<object, string>();
  const tokenOf = (connection: object) => {
    let token = tokens.get(connection);
    if (token === undefined) {
      token = `${processToken}.${next++}`;
      tokens.set(connection, token);
    }
    return token;
  };

  return {
    async firstReceivedAt({ clientId, connection, messageId, payload, receivedAt }) {
      const client = await redis();
      const key = `${prefix}:resend:${clientId}:${messageId}`;
      const args = [tokenOf(connection), createHash('sha1').update(payload).digest('base64url'), String(receivedAt), String(windowMs)];
      let first: unknown;
      try {
        first = await client.evalsha(SHA, 1, key, ...args);
      } catch (err) {
        if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
        first = await client.eval(SCRIPT, 1, key, ...args);
      }
      return Number(first);
    },
  };
}
