import type { Duplex } from 'node:stream';
import type { Logger } from '@city/logger';
import { PacketScanner, type ScanViolation } from './packet-scanner.ts';
import type { LimitMetrics } from './limit-metrics.ts';

export interface ConnectionGuardOptions {
  /** See ClientLimits.maxPacketBytes. */
  maxPacketBytes: number;
  /** See ClientLimits.maxBytesBeforeConnack. */
  maxBytesBeforeConnack: number;
  /** See ClientLimits.maxConnections. */
  maxConnections: number;
  metrics: LimitMetrics;
  logger: Logger;
}

export interface ConnectionGuard {
  /**
   * Puts the packet guard on a new connection (TCP socket, TLS socket, or a WebSocket stream from
   * `ws.createWebSocketStream`) and returns the same stream, for `aedes.handle`. A connection over
   * `maxConnections` comes back already destroyed.
   */
  guardConnection: <S extends Duplex>(stream: S) => S;
  /** The connection's CONNACK (accepted) was sent: lift the pre-CONNACK budget, apply `maxPacketBytes`. */
  markConnected: (stream: Duplex) => void;
  /** Connections open now. */
  openConnections: () => number;
}

/** CONNACK with return code 0x01, "unacceptable protocol version" [MQTT-3.1.2-2]. */
const CONNACK_UNACCEPTABLE_PROTOCOL = Buffer.from([0x20, 0x02, 0x00, 0x01]);

/**
 * The first thing every byte from a client meets. Aedes' parser (mqtt-packet) buffers a packet until its declared
 * Remaining Length has arrived, up to 256 MiB (NOTES.md); this guard reads each fixed header as it arrives and
 * cuts the connection as soon as a declared size is over the limit, so the body is never buffered.
 *
 * It intercepts the stream's own `push` rather than piping through a second stream: every Readable (net.Socket,
 * tls.TLSSocket, ws' WebSocket stream) receives its data through `push`, so the guard sees each chunk before the
 * stream buffers it, without a copy, an extra stream hop, or hiding the socket from Aedes (the TLS peer
 * certificate and the remote address stay where Aedes and the hooks look for them).
 */
export function createConnectionGuard(options: ConnectionGuardOptions): ConnectionGuard {
  const { metrics, logger } = options;
  const scanners = new WeakMap<Duplex, PacketScanner>();
  let open = 0;

  function cut(stream: Duplex, scanner: PacketScanner, violation: ScanViolation): void {
    const { reason, rule } = violation;
    if (rule !== undefined) metrics.protocolViolations.inc({ rule });
    if (scanner.connected) metrics.connectionsCut.inc({ reason });
    else metrics.connectionsRefused.inc({ reason });
    logger.debug(
      { reason, rule, declaredBytes: scanner.declaredBytes, connected: scanner.connected, remoteAddress: (stream as { remoteAddress?: string }).remoteAddress },
      'connection cut by the packet guard',
    );
    if (rule === 'MQTT-3.1.2-2') {
      stream.write(CONNACK_UNACCEPTABLE_PROTOCOL, () => stream.destroy());
      return;
    }
    stream.destroy();
  }

  return {
    guardConnection(stream) {
      if (open >= options.maxConnections) {
        metrics.connectionsRefused.inc({ reason: 'max_connections' });
        stream.destroy();
        return stream;
      }
      open++;
      metrics.openConnections.set(open);
      stream.once('close', () => {
        open--;
        metrics.openConnections.set(open);
      });

      const scanner = new PacketScanner(options.maxPacketBytes, options.maxBytesBeforeConnack);
      scanners.set(stream, scanner);
      const push = stream.push.bind(stream);
      let spent = false;
      stream.push = (chunk: unknown, encoding?: BufferEncoding): boolean => {
        if (chunk === null || chunk === undefined) return push(chunk, encoding);
        if (spent) return false;
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : (chunk as Uint8Array);
        const violation = scanner.scan(bytes);
        if (violation === undefined) return push(chunk, encoding);
        spent = true;
        cut(stream, scanner, violation);
        return false;
      };
      return stream;
    },
    markConnected(stream) {
      const scanner = scanners.get(stream);
      if (scanner) scanner.connected = true;
    },
    openConnections: () => open,
  };
}
