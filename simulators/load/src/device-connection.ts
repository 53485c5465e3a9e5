import net from 'node:net';
import { createPacketReader, DISCONNECT, encodeConnect, encodePublish, markDuplicate, PACKET, PINGREQ, type IncomingPacket } from './mqtt-codec.ts';

/** A QoS 1 message waiting for its PUBACK. */
export interface InFlight<M> {
  packet: Buffer;
  /** `performance.now()` of its latest transmission. */
  sentAt: number;
  /** Transmissions so far (resent after a reconnect). */
  sends: number;
  meta: M;
}

/** What a fleet hears from its connections. One object for all of them: no closures per device. */
export interface ConnectionHandler<M> {
  /** CONNACK received: 0 is accepted; anything else was refused and the socket is closed. */
  onConnack(connection: DeviceConnection<M>, returnCode: number): void;
  onPuback(connection: DeviceConnection<M>, message: InFlight<M>, now: number): void;
  /** The socket closed (refused, dropped, or cut by the broker); `wasConnected`: a CONNACK 0 had come first. */
  onClose(connection: DeviceConnection<M>, wasConnected: boolean, error: string | undefined): void;
}

export interface DeviceConnectionOptions {
  host: string;
  port: number;
  /** Source address (a loopback alias such as 127.0.3.7): devices of a city come from many addresses. */
  localAddress?: string;
  clientId: string;
  username?: string;
  password?: string;
  /** @defaultValue 60 */
  keepaliveS?: number;
}

type Phase = 'closed' | 'connecting' | 'connected';

/**
 * One device's MQTT connection: clean session, QoS 0/1 publishes, PUBACK matching by packet id, and — like any
 * client — retransmission of unacknowledged QoS 1 messages (DUP set) once it is connected again. It never
 * reconnects by itself: the fleet decides when (backoff, storms, pacing).
 */
export class DeviceConnection<M> {
  readonly inFlight = new Map<number, InFlight<M>>();
  phase: Phase = 'closed';
  /** `performance.now()` of the last packet sent, for keep-alive. */
  lastSentAt = 0;
  /** Overrides the password of the next CONNECT only (a device with a wrong token). */
  nextPassword: string | undefined;
  private socket: net.Socket | undefined;
  private nextId = 1;
  private corked = false;

  constructor(
    readonly options: DeviceConnectionOptions,
    private readonly handler: ConnectionHandler<M>,
    /** The fleet's index of this device. */
    readonly index: number,
  ) {}

  get connected(): boolean {
    return this.phase === 'connected';
  }

  connect(): void {
    if (this.phase !== 'closed') return;
    this.phase = 'connecting';
    const { host, port, localAddress } = this.options;
    const socket = net.connect({ host, port, ...(localAddress ? { localAddress } : {}) });
    this.socket = socket;
    socket.setNoDelay(true);
    let wasConnected = false;
    let error: string | undefined;
    const read = createPacketReader((packet) => {
      if (this.socket !== socket) return;
      if (this.onPacket(packet)) wasConnected = true;
    });
    socket.on('connect', () => {
      const password = this.nextPassword ?? this.options.password;
      this.nextPassword = undefined;
      socket.write(
        encodeConnect({
          clientId: this.options.clientId,
          ...(this.options.username !== undefined ? { username: this.options.username } : {}),
          ...(password !== undefined ? { password } : {}),
          keepaliveS: this.options.keepaliveS ?? 60,
          clean: true,
        }),
      );
      this.lastSentAt = performance.now();
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        read(chunk);
      } catch (err) {
        socket.destroy(err as Error);
      }
    });
    socket.on('error', (err) => {
      error = err.message;
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.phase = 'closed';
      this.corked = false;
      this.handler.onClose(this, wasConnected, error);
    });
  }

  /** Returns true when the packet was an accepting CONNACK. */
  private onPacket(packet: IncomingPacket): boolean {
    switch (packet.type) {
      case PACKET.connack: {
        const rc = packet.body[1] ?? 255;
        if (rc === 0) {
          this.phase = 'connected';
          // Unacknowledged messages go again, in order, marked as duplicates [MQTT-4.4.0-1].
          for (const message of this.inFlight.values()) {
            markDuplicate(message.packet);
            message.sentAt = performance.now();
            message.sends++;
            this.write(message.packet);
          }
        } else {
          this.socket?.destroy();
        }
        this.handler.onConnack(this, rc);
        return rc === 0;
      }
      case PACKET.puback: {
        const id = packet.body.readUInt16BE(0);
        const message = this.inFlight.get(id);
        if (message) {
          this.inFlight.delete(id);
          this.handler.onPuback(this, message, performance.now());
        }
        return false;
      }
      default:
        return false;
    }
  }

  private write(packet: Buffer): void {
    const socket = this.socket;
    if (!socket) return;
    // Packets of one device in one tick leave in one write.
    if (!this.corked) {
      this.corked = true;
      socket.cork();
      process.nextTick(() => {
        this.corked = false;
        socket.uncork();
      });
    }
    socket.write(packet);
    this.lastSentAt = performance.now();
  }

  /** Publishes now (the caller checks `connected`). QoS 1 messages are kept until acknowledged. */
  publish(topic: Buffer, payload: Buffer, qos: 0 | 1, meta: M): void {
    if (qos === 0) {
      this.write(encodePublish(topic, payload, 0));
      return;
    }
    let id = this.nextId;
    while (this.inFlight.has(id)) id = id === 65_535 ? 1 : id + 1;
    this.nextId = id === 65_535 ? 1 : id + 1;
    const packet = encodePublish(topic, payload, 1, id);
    this.inFlight.set(id, { packet, sentAt: performance.now(), sends: 1, meta });
    this.write(packet);
  }

  ping(): void {
    if (this.connected) this.write(PINGREQ);
  }

  /** Drops the connection without a DISCONNECT, as a network blip or a crash would. */
  drop(): void {
    this.socket?.destroy();
  }

  /** A graceful end: DISCONNECT, then close. */
  end(): Promise<void> {
    const socket = this.socket;
    if (!socket) return Promise.resolve();
    return new Promise((resolve) => {
      socket.once('close', () => resolve());
      if (this.connected) socket.end(DISCONNECT);
      else socket.destroy();
      setTimeout(() => socket.destroy(), 2000).unref();
    });
  }
}
