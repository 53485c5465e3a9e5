import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WEBHOOK_HEADERS, verifyWebhook } from '@city/worker';
import type { AlertEvent } from '@city/schema';

export interface ReceivedWebhook {
  event: AlertEvent;
  /** The signature checked out with the secret, and the timestamp is recent. */
  verified: boolean;
  eventIdHeader: string | undefined;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Requests answered with a failure status. */
  refused: number;
  close(): Promise<void>;
}

/**
 * A real HTTP receiver on loopback, as an operator's system would run one: it checks every delivery's signature
 * with the shared secret. `status` lets a test make it refuse deliveries (to see retries and dead letters).
 */
export async function startWebhookReceiver(secret: string, status = 200): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const receiver = { received, refused: 0 } as WebhookReceiver;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (status >= 300) {
        receiver.refused += 1;
        res.writeHead(status).end();
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      const header = (name: string) => req.headers[name] as string | undefined;
      received.push({
        event: JSON.parse(body) as AlertEvent,
        verified: verifyWebhook(secret, { timestamp: header(WEBHOOK_HEADERS.timestamp), signature: header(WEBHOOK_HEADERS.signature) }, body, Math.floor(Date.now() / 1000)),
        eventIdHeader: header(WEBHOOK_HEADERS.eventId),
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  receiver.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return receiver;
}
