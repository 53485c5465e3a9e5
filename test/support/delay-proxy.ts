import net from 'node:net';

export interface DelayProxy {
  url: string;
  /** Connections that have sent a request body to the server so far. */
  requests(): number;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of a real server that holds every answer back for `delayMs`: it makes "a write is in flight"
 * last long enough for a test to act during it. The server still does the real work.
 */
export async function createDelayProxy(target: string, delayMs: number): Promise<DelayProxy> {
  const { hostname, port, protocol } = new URL(target);
  let requests = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), hostname);
    sockets.add(client).add(upstream);
    client.on('data', (chunk) => {
      if (chunk.toString('latin1').startsWith('POST ')) requests++;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => setTimeout(() => client.writable && client.write(chunk), delayMs));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', () => setTimeout(end, delayMs)).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `${protocol}//127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    requests: () => requests,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
