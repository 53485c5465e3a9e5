import http from 'node:http';
import type net from 'node:net';

/** What the proxy does with a write (`POST /write`, `POST /api/v2/write`); every other request is passed through. */
export type HttpFault =
  | { kind: 'pass' }
  /** Answer writes itself with this status (429, 503…) and body, with `Retry-After: retryAfterS` when given. */
  | { kind: 'answer'; status: number; body: string; retryAfterS?: number };

export interface HttpFaultProxy {
  url: string;
  /** From now on, writes get this. Alternate faults by calling it again. */
  set(fault: HttpFault | ((n: number) => HttpFault)): void;
  /** Writes forwarded to the real server, and writes answered by the fault. */
  counts(): { forwarded: number; faulted: number };
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of a real InfluxDB that can answer writes itself, the way a throttling server does
 * (InfluxDB 1.x answers 503 under load; a gateway or InfluxDB Cloud answers 429 with Retry-After) — a fault the real
 * server cannot be made to produce on demand. Everything it does not fault reaches the real server unchanged.
 */
export async function createHttpFaultProxy(target: string): Promise<HttpFaultProxy> {
  let fault: HttpFault | ((n: number) => HttpFault) = { kind: 'pass' };
  let forwarded = 0;
  let faulted = 0;
  let writes = 0;
  const sockets = new Set<net.Socket>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const isWrite = req.method === 'POST' && /^\/(api\/v2\/)?write(\?|$)/.test(req.url ?? '');
      const now = isWrite ? (typeof fault === 'function' ? fault(writes++) : fault) : { kind: 'pass' as const };
      if (now.kind === 'answer') {
        faulted++;
        res.writeHead(now.status, { 'content-type': 'text/plain', ...(now.retryAfterS !== undefined ? { 'retry-after': String(now.retryAfterS) } : {}) });
        res.end(now.body);
        return;
      }
      if (isWrite) forwarded++;
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k, v]) => typeof v === 'string' && !['host', 'connection', 'content-length'].includes(k))) as Record<string, string>;
      fetch(`${target}${req.url ?? '/'}`, { method: req.method ?? 'GET', headers, ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}), signal: AbortSignal.timeout(30_000) })
        .then(async (upstream) => {
          const body = Buffer.from(await upstream.arrayBuffer());
          const out: Record<string, string> = {};
          upstream.headers.forEach((v, k) => {
            if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(k)) out[k] = v;
          });
          res.writeHead(upstream.status, out);
          res.end(body);
        })
        // The real server is down: what a client would see without the proxy is a failed connection.
        .catch(() => res.destroy());
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    set(next) {
      fault = next;
    },
    counts: () => ({ forwarded, faulted }),
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
