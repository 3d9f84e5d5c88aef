import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

/**
 * The HTTP POST of one webhook delivery. Cooperatives choose the URLs, so in production a URL that
 * resolves to a loopback, private, link-local or otherwise internal address is refused when it is
 * resolved (not only when it is registered: a name can later resolve elsewhere), so a webhook cannot
 * reach the services beside the worker. Redirects are not followed: a 3xx is a failed delivery.
 */
export interface WebhookPost {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** Local development and tests deliver to 127.0.0.1; production does not (WEBHOOK_ALLOW_PRIVATE_TARGETS). */
  allowPrivateTargets: boolean;
}

const INTERNAL = new net.BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) INTERNAL.addSubnet(network, prefix, 'ipv4');
// IPv4-mapped addresses (::ffff:a.b.c.d) would carry an internal IPv4 address past the list above.
for (const [network, prefix] of [['::', 127], ['::ffff:0:0', 96], ['64:ff9b::', 96], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) INTERNAL.addSubnet(network, prefix, 'ipv6');

function isInternal(address: string): boolean {
  const family = net.isIP(address);
  return family !== 0 && INTERNAL.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

class RefusedTarget extends Error {
  constructor(host: string) {
    super(`${host} resolves only to internal addresses, which webhooks may not reach`);
    this.name = 'RefusedTarget';
  }
}

/** dns.lookup, keeping only addresses outside the internal ranges. */
const publicLookup: net.LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', 0);
    const allowed = addresses.filter((a) => !isInternal(a.address));
    if (allowed.length === 0) return callback(new RefusedTarget(hostname), '', 0);
    if (options.all) return (callback as unknown as (e: null, all: dns.LookupAddress[]) => void)(null, allowed);
    return callback(null, allowed[0]!.address, allowed[0]!.family);
  });
};

/** POSTs the delivery and resolves with the response status; rejects when no response came (refused, timed out, reset). */
export function postWebhook(post: WebhookPost): Promise<number> {
  const url = new URL(post.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!post.allowPrivateTargets && isInternal(host)) return Promise.reject(new RefusedTarget(host));
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
