import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

/**
 * What the services may reach at addresses that callers choose (webhook URLs, OIDC issuers and their key
 * sets): in production, not loopback, private, link-local or other internal addresses, checked when the
 * name is resolved (not only when it is registered: a name can later resolve elsewhere), so a caller
 * cannot make the API or the worker reach the services beside them.
 */
const INTERNAL = new net.BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) INTERNAL.addSubnet(network, prefix, 'ipv4');
// IPv4-mapped addresses (::ffff:a.b.c.d) would carry an internal IPv4 address past the list above.
for (const [network, prefix] of [['::', 127], ['::ffff:0:0', 96], ['64:ff9b::', 96], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) INTERNAL.addSubnet(network, prefix, 'ipv6');

/** Whether an address literal is internal (a host name is not: its addresses are checked when resolved). */
function isInternal(address: string): boolean {
  const family = net.isIP(address);
  return family !== 0 && INTERNAL.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

class RefusedTarget extends Error {
  constructor(host: string) {
    super(`${host} resolves only to internal addresses, which may not be reached from here`);
    this.name = 'RefusedTarget';
  }
}

/** dns.lookup, keeping only addresses outside the internal ranges. */
export const publicLookup: net.LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', 0);
    const allowed = addresses.filter((a) => !isInternal(a.address));
    if (allowed.length === 0) return callback(new RefusedTarget(hostname), '', 0);
    if (options.all) return (callback as unknown as (e: null, all: dns.LookupAddress[]) => void)(null, allowed);
    return callback(null, allowed[0]!.address, allowed[0]!.family);
  });
};

/** The host of a URL, refused at once when it is an internal address literal (no lookup happens for those). */
export function publicHost(url: URL): string {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isInternal(host)) throw new RefusedTarget(host);
  return host;
}

/** Agents that connect only to public addresses, for clients that take one (jose's key sets). */
export const publicAgents = { http: new http.Agent({ lookup: publicLookup }), https: new https.Agent({ lookup: publicLookup }) };
