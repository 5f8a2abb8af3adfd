import { LiveError } from './errors.js';

/** Where a server is and how to talk to it. */
export interface RedisAddress {
  host: string;
  port: number;
  /** `rediss://`: TLS. */
  tls: boolean;
  username?: string;
  password?: string;
  /** The database of `redis://host/3` (default 0). */
  db: number;
}

/**
 * Parses `redis://[[user]:pass@]host[:port][/db]`, `rediss://...` (TLS) or a bare `host:port`. IPv6 hosts go in
 * brackets (`redis://[::1]:6379`). User and password are percent-decoded.
 */
export function parseRedisUrl(text: string): RedisAddress {
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(text) ? text : `redis://${text}`);
  } catch {
    throw new LiveError('url', `not a Redis address: ${JSON.stringify(text)} (expected redis://[user:pass@]host:port)`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new LiveError('url', `unsupported scheme ${url.protocol} in ${JSON.stringify(text)}: use redis:// or rediss://`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new LiveError('url', `no host in ${JSON.stringify(text)}`);
  const port = url.port === '' ? 6379 : Number(url.port);
  const dbText = url.pathname.replace(/^\//, '');
  if (dbText !== '' && !/^\d+$/.test(dbText)) throw new LiveError('url', `the path of ${JSON.stringify(text)} must be a database number`);
  const address: RedisAddress = { host, port, tls: url.protocol === 'rediss:', db: dbText === '' ? 0 : Number(dbText) };
  if (url.username !== '') address.username = decodeURIComponent(url.username);
  if (url.password !== '') address.password = decodeURIComponent(url.password);
  return address;
}

/** `host:port` as messages show it (IPv6 in brackets). */
export function formatAddress(a: { host: string; port: number }): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
