import http from 'node:http';
import https from 'node:https';
import { publicHost, publicLookup } from './public-network';

/**
 * The HTTP POST of one webhook delivery. Cooperatives choose the URLs, so in production only public
 * addresses are reached (clients/public-network.ts). Redirects are not followed: a 3xx is a failed delivery.
 */
export interface WebhookPost {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** Local development and tests deliver to 127.0.0.1; production does not (WEBHOOK_ALLOW_PRIVATE_TARGETS). */
  allowPrivateTargets: boolean;
}

/** POSTs the delivery and resolves with the response status; rejects when no response came (refused, timed out, reset). */
export function postWebhook(post: WebhookPost): Promise<number> {
  const url = new URL(post.url);
  if (!post.allowPrivateTargets) {
    try {
      publicHost(url);
    } catch (err) {
      return Promise.reject(err);
    }
  }
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.request(
      url,
      {
        method: 'POST',
        headers: { ...post.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(post.body), 'user-agent': 'coop-credits-webhooks/1' },
        signal: AbortSignal.timeout(post.timeoutMs),
        ...(post.allowPrivateTargets ? {} : { lookup: publicLookup }),
      },
      (response) => {
        // The receiver's answer body is not needed; read it to the end so the connection can be reused.
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(post.body);
  });
}
