import net from 'node:net';

/** A PUBLISH the client sent through the proxy, as its fixed header and variable header say. */
export interface SeenPublish {
  connection: number;
  messageId: number | undefined;
  dup: boolean;
  qos: number;
  topic: string;
}

export interface MqttFaultProxy {
  url: string;
  /** Every PUBLISH clients sent, in order, with the number of the proxied connection it came on. */
  publishes: SeenPublish[];
  /** The next PUBACK the broker sends is swallowed and both sockets are cut: the client never learns it was stored. */
  dropNextPuback(): void;
  /** PUBACKs swallowed so far. */
  droppedPubacks(): number;
  close(): Promise<void>;
}

/** Splits a byte stream into whole MQTT packets (fixed header: type byte, remaining length as a varint). */
function packetSplitter(onPacket: (packet: Buffer) => void): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      let length = 0;
      let multiplier = 1;
      let i = 1;
      for (; i < pending.length && i <= 4; i++) {
        length += (pending[i]! & 0x7f) * multiplier;
        multiplier *= 128;
        if ((pending[i]! & 0x80) === 0) break;
      }
      if (i >= pending.length || pending.length < i + 1 + length) return;
      const end = i + 1 + length;
      onPacket(pending.subarray(0, end));
      pending = pending.subarray(end);
    }
  };
}

/**
 * A TCP proxy in front of the real broker that can lose one acknowledgement: the broker has stored the message and
 * written its PUBACK, and the connection dies before the client reads it, the moment that makes a client resend.
 * It also records the PUBLISH packets clients send (DUP flag, packet id), to see what a resend looks like.
 */
export async function createMqttFaultProxy(target: string): Promise<MqttFaultProxy> {
  const { hostname, port } = new URL(target);
  const publishes: SeenPublish[] = [];
  const sockets = new Set<net.Socket>();
  let armed = false;
  let dropped = 0;
  let connections = 0;

  const server = net.createServer((client) => {
    const connection = ++connections;
    const upstream = net.connect(Number(port), hostname);
    sockets.add(client).add(upstream);
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', packetSplitter((packet) => {
      const first = packet[0]!;
      if (first >> 4 === 3) {
        const qos = (first >> 1) & 3;
        // Skip the remaining-length varint to reach the topic length.
        let offset = 1;
        while (packet[offset]! & 0x80) offset++;
        offset++;
        const topicLength = packet.readUInt16BE(offset);
        const topic = packet.subarray(offset + 2, offset + 2 + topicLength).toString('utf8');
        const messageId = qos > 0 ? packet.readUInt16BE(offset + 2 + topicLength) : undefined;
        publishes.push({ connection, messageId, dup: (first & 0x08) !== 0, qos, topic });
      }
      upstream.write(packet);
    }));
    upstream.on('data', packetSplitter((packet) => {
      if (armed && packet[0]! >> 4 === 4) {
        armed = false;
        dropped++;
        cut();
        return;
      }
      if (client.writable) client.write(packet);
    }));
    client.on('close', cut).on('error', cut);
    upstream.on('close', cut).on('error', cut);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    publishes,
    dropNextPuback: () => void (armed = true),
    droppedPubacks: () => dropped,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
