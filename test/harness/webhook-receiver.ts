import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../clients/webhook-signature';
import { WEBHOOK_HEADERS, type WebhookEventBody } from '../../domain/webhooks';

export interface ReceivedDelivery {
  body: WebhookEventBody;
  rawBody: string;
  signature: string;
  eventId: string;
  eventType: string;
  attempt: number;
  /** Which of the receiver's secrets verify the signature (with the sender's own verification). */
  verifiedBy: string[];
  /** What the receiver answered. */
  status: number;
}

export interface WebhookReceiver {
  url: string;
  /** Every delivery that reached it, in arrival order, answered or not. */
  deliveries: ReceivedDelivery[];
  /** The secrets it verifies with. */
  secrets: string[];
  /** The status to answer with (default 204). */
  answer: (delivery: ReceivedDelivery) => number;
  close(): Promise<void>;
}

/** A receiver as a cooperative's app would run one: node:http on an ephemeral port, verifying each delivery. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const receiver: Omit<WebhookReceiver, 'url' | 'close'> = { deliveries: [], secrets: [], answer: () => 204 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const header = (name: string) => String(req.headers[name.toLowerCase()] ?? '');
      const signature = header(WEBHOOK_HEADERS.signature);
      const delivery: ReceivedDelivery = {
        body: JSON.parse(rawBody) as WebhookEventBody, rawBody, signature, eventId: header(WEBHOOK_HEADERS.eventId), eventType: header(WEBHOOK_HEADERS.eventType),
        attempt: Number(header(WEBHOOK_HEADERS.attempt)), verifiedBy: receiver.secrets.filter((s) => verifySignature(signature, rawBody, s)), status: 0,
      };
      delivery.status = receiver.answer(delivery);
      receiver.deliveries.push(delivery);
      res.writeHead(delivery.status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  });
}
