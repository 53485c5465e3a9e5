/**
 * What one MQTT client may cost the broker. Every limit has an env var (config.ts), a metric (broker-metrics.ts)
 * and a test (test/broker-limits.test.ts); README "## Limits" says what a client experiences at each.
 */
export interface ClientLimits {
  /**
   * Largest MQTT packet (fixed header included) after the CONNACK. Cut from the fixed header, before Aedes buffers
   * a byte of the body. Twice the largest payload, so a payload a little over `MAX_PAYLOAD_BYTES` still reaches
   * validation and is dead-lettered with its size, while nothing larger is ever held in memory.
   * @defaultValue 524288 (512 KiB)
   */
  maxPacketBytes: number;
  /**
   * Bytes (of whole packets, as their fixed headers declare them) a client may send before its CONNACK. A CONNECT
   * with a 64-byte id, user name, token and will is a few hundred bytes; an unauthenticated client gets no more.
   * @defaultValue 8192
   */
  maxBytesBeforeConnack: number;
  /**
   * Longest ClientId in UTF-8 bytes; longer ones get CONNACK 0x02 [MQTT-3.1.3-9]. Device ids are at most 64.
   * @defaultValue 64
   */
  maxClientIdLength: number;
  /**
   * Time from the TCP (TLS, WebSocket) connection to a complete CONNECT; Aedes' `connectTimeout`.
   * @defaultValue 10000
   */
  connectTimeoutMs: number;
  /**
   * Open connections (all listeners, CONNECT received or not). Beyond it a new connection is closed at once.
   * @defaultValue 10000
   */
  maxConnections: number;
  /**
   * CONNECTs per second one source address may make, on average (token bucket refill).
   * @defaultValue 20
   */
  connectsPerSecondPerAddress: number;
  /**
   * CONNECTs one source address may make at once (token bucket size): a gateway or NAT reconnecting its fleet.
   * @defaultValue 100
   */
  connectBurstPerAddress: number;
  /**
   * PUBLISH packets per second one client id may send, on average. Over it the client is throttled: the broker
   * reads its next packets later, nothing is dropped and the connection stays up.
   * @defaultValue 20
   */
  publishesPerSecondPerClient: number;
  /**
   * PUBLISH packets one client id may send at once before throttling starts (a device flushing a backlog).
   * @defaultValue 200
   */
  publishBurstPerClient: number;
  /**
   * QoS 1/2 messages queued for one persistent session (clean=false) that is offline or not acknowledging;
   * beyond it the oldest is dropped (counted).
   * @defaultValue 1000
   */
  maxQueuedMessagesPerSession: number;
  /**
   * Source addresses and client ids whose token buckets are remembered; beyond it the least recently seen is
   * forgotten (it starts with a full bucket again). Bounds the limiter's own memory.
   * @defaultValue 100000
   */
  maxTrackedKeys: number;
}

export const DEFAULT_CLIENT_LIMITS: ClientLimits = {
  maxPacketBytes: 524_288,
  maxBytesBeforeConnack: 8192,
  maxClientIdLength: 64,
  connectTimeoutMs: 10_000,
  maxConnections: 10_000,
  connectsPerSecondPerAddress: 20,
  connectBurstPerAddress: 100,
  publishesPerSecondPerClient: 20,
  publishBurstPerClient: 200,
  maxQueuedMessagesPerSession: 1000,
  maxTrackedKeys: 100_000,
};
