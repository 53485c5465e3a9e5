import type { AedesOptions, Client } from 'aedes';
import type { Logger } from '@city/logger';
import { checkConnect } from '@city/core';
import type { ClientLimits } from '../limits/client-limits.ts';
import type { LimitMetrics, RefusalReason } from '../limits/limit-metrics.ts';
import { createTokenBuckets } from '../limits/token-buckets.ts';

export type PreConnectHook = NonNullable<AedesOptions['preConnect']>;

export interface PreConnectDeps {
  limits: Pick<ClientLimits, 'maxClientIdLength' | 'connectsPerSecondPerAddress' | 'connectBurstPerAddress' | 'maxTrackedKeys'>;
  metrics: LimitMetrics;
  logger: Logger;
  now: () => number;
}

/** A CONNECT the broker refused before its CONNACK; `reason` is the label of `city_broker_connections_refused_total`. */
export class ConnectRefusedError extends Error {
  override readonly name = 'ConnectRefusedError';
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(message);
  }
}

/** CONNACK return codes of MQTT 3.1.1 (section 3.2.2.3) that preConnect answers with. */
const CONNACK = {
  1: Buffer.from([0x20, 0x02, 0x00, 0x01]), // unacceptable protocol version
  2: Buffer.from([0x20, 0x02, 0x00, 0x02]), // identifier rejected
  3: Buffer.from([0x20, 0x02, 0x00, 0x03]), // server unavailable
} as const;

/** The client's source address: the socket's, or for a WebSocket stream the HTTP upgrade request's. */
export function remoteAddressOf(client: Client): string {
  return (client.conn as { remoteAddress?: string }).remoteAddress ?? client.req?.socket?.remoteAddress ?? 'unknown';
}

/**
 * Aedes' first hook on a CONNECT, before authentication: the per-address connection rate, the ClientId length and
 * the MQTT 3.1.1 rules of a CONNECT that Aedes lets through (@city/core `checkConnect`).
 *
 * A refusal calls back an Error: Aedes then closes the connection (calling back `(null, false)` would leave the
 * socket open forever, NOTES.md). Where the spec asks for a CONNACK return code, it is written first and the
 * callback waits for the write, so the client learns why.
 */
export function createPreConnect(deps: PreConnectDeps): PreConnectHook {
  const { limits, metrics, logger, now } = deps;
  const connects = createTokenBuckets({
    capacity: limits.connectBurstPerAddress,
    refillPerSecond: limits.connectsPerSecondPerAddress,
    maxKeys: limits.maxTrackedKeys,
  });

  function refuse(
    client: Client,
    reason: RefusalReason,
    detail: string,
    connackReturnCode: keyof typeof CONNACK | undefined,
    callback: (error: Error | null, success: boolean) => void,
  ): void {
    metrics.connectionsRefused.inc({ reason });
    logger.debug({ reason, detail, remoteAddress: remoteAddressOf(client) }, 'CONNECT refused');
    const error = new ConnectRefusedError(reason, detail);
    if (connackReturnCode === undefined || client.conn.destroyed) return callback(error, false);
    client.conn.write(CONNACK[connackReturnCode], () => callback(error, false));
  }

  return function preConnect(client, packet, callback) {
    const address = remoteAddressOf(client);
    if (!connects.tryTake(address, now())) {
      return refuse(client, 'connect_rate', `more than ${limits.connectBurstPerAddress} CONNECTs at once, or ${limits.connectsPerSecondPerAddress}/s, from ${address}`, 3, callback);
    }
    const violation = checkConnect(packet);
    if (violation) {
      metrics.protocolViolations.inc({ rule: violation.rule });
      return refuse(client, 'protocol_violation', `[${violation.rule}] ${violation.detail}`, violation.connackReturnCode, callback);
    }
    // [MQTT-3.1.3-5] lets a server accept ClientIds longer than 23 bytes, and [MQTT-3.1.3-9] says how to refuse one.
    const idBytes = Buffer.byteLength(packet.clientId);
    if (idBytes > limits.maxClientIdLength) {
      return refuse(client, 'client_id_too_long', `ClientId of ${idBytes} bytes; the limit is ${limits.maxClientIdLength}`, 2, callback);
    }
    callback(null, true);
  };
}
