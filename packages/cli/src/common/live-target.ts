// Which server a live command talks to: a redis:// URL, or the master a set of Sentinels names
// (--sentinel h:p[,h:p...] --master <name>), with --user/--password for the server and --sentinel-password for the
// sentinels. Commands resolve the address when they connect; long-running ones (aof-tool follow) call `resolver`
// again at each reconnect and may watch `+switch-master` with `sentinel` (watchMaster).
import type { Command } from 'commander';
import { formatAddress, masterResolver, parseRedisUrl, parseSentinelList, resolveMaster, type RedisAddress, type SentinelAddress, type SentinelOptions } from '@redis-persist/live';
import { usageError } from './exit.js';
import type { Output } from './output.js';

/** The options {@link addLiveTargetOptions} adds, as commander hands them over. */
export interface LiveTargetCliOptions {
  sentinel?: string;
  master?: string;
  user?: string;
  password?: string;
  sentinelPassword?: string;
}

export type LiveTarget =
  | {
      kind: 'url';
      /** The URL's address, with --user/--password (or REDISCLI_AUTH) applied. */
      address: RedisAddress;
      /** `host:port`. */
      label: string;
      /** Always the URL's address. */
      resolver: () => Promise<RedisAddress>;
    }
  | {
      kind: 'sentinel';
      masterName: string;
      sentinels: SentinelAddress[];
      /** For resolveMaster / watchMaster. */
      sentinel: SentinelOptions;
      /** `mymaster via sentinels h:p,h:p`. */
      label: string;
      /** The master the sentinels name now, confirmed by ROLE (a SentinelError when none is). */
      resolver: () => Promise<RedisAddress>;
    };

/** Adds --sentinel, --master, --user, --password and --sentinel-password to a command. */
export function addLiveTargetOptions(cmd: Command): Command {
  return cmd
    .option('--sentinel <host:port,...>', 'instead of a URL: find the master through these Sentinels (SENTINEL get-master-addr-by-name, confirmed with ROLE), with --master')
    .option('--master <name>', 'with --sentinel: the name the sentinels monitor the master under')
    .option('--user <name>', 'the ACL user to authenticate to the server as (with --sentinel: to the master)')
    .option('--password <password>', 'the password of the server (with --sentinel: of the master; REDISCLI_AUTH works too)')
    .option('--sentinel-password <password>', "with --sentinel: the sentinels' own password (their requirepass)");
}

/**
 * The target of a live command from its URL argument or --sentinel/--master: exactly one of them (a usage error
 * otherwise, as for an unreadable URL or sentinel list). `tls`: the command was given TLS files (not supported with
 * --sentinel yet). `timeoutMs` bounds each sentinel and the ROLE check (default 3000).
 */
export function liveTarget(url: string | undefined, opts: LiveTargetCliOptions, extra: { tls?: boolean; timeoutMs?: number } = {}): LiveTarget {
  const envPassword = process.env.REDISCLI_AUTH !== undefined && process.env.REDISCLI_AUTH !== '' ? process.env.REDISCLI_AUTH : undefined;
  if (opts.sentinel === undefined) {
    if (opts.master !== undefined) throw usageError('--master goes with --sentinel host:port[,host:port...]');
    if (opts.sentinelPassword !== undefined) throw usageError('--sentinel-password goes with --sentinel host:port[,host:port...]');
    if (url === undefined) throw usageError('no server: give its URL (redis://host:port) or --sentinel host:port[,host:port...] --master <name>');
    let address: RedisAddress;
    try {
      address = parseRedisUrl(url);
    } catch (e) {
      throw usageError((e as Error).message);
    }
    if (opts.password !== undefined && address.password !== undefined) throw usageError(`the password is both in ${JSON.stringify(url)} and in --password: give it once`);
    if (opts.user !== undefined && address.username !== undefined) throw usageError(`the user is both in ${JSON.stringify(url)} and in --user: give it once`);
    if (opts.user !== undefined) address.username = opts.user;
    address.password ??= opts.password ?? envPassword;
    if (address.password === undefined) delete address.password;
    const fixed = address;
    return { kind: 'url', address, label: formatAddress(address), resolver: () => Promise.resolve({ ...fixed }) };
  }
  if (url !== undefined) throw usageError(`give the server as a URL (${url}) or with --sentinel, not both`);
  if (opts.master === undefined || opts.master === '') throw usageError('--sentinel needs --master <name>: the name the sentinels monitor the master under');
  if (extra.tls) throw usageError('TLS files (--cacert, --cert, --key, --insecure) are not supported with --sentinel yet');
  let sentinels: SentinelAddress[];
  try {
    sentinels = parseSentinelList(opts.sentinel);
  } catch (e) {
    throw usageError(`--sentinel: ${(e as Error).message}`);
  }
  const password = opts.password ?? envPassword;
  if (opts.user !== undefined && password === undefined) throw usageError(`--user ${opts.user} without a password: add --password (or REDISCLI_AUTH)`);
  const sentinel: SentinelOptions = { sentinels, masterName: opts.master, timeoutMs: extra.timeoutMs ?? 3000 };
  if (opts.user !== undefined) sentinel.username = opts.user;
  if (password !== undefined) sentinel.password = password;
  if (opts.sentinelPassword !== undefined) sentinel.sentinelPassword = opts.sentinelPassword;
  return {
    kind: 'sentinel',
    masterName: opts.master,
    sentinels,
    sentinel,
    label: `${opts.master} via sentinel${sentinels.length === 1 ? '' : 's'} ${sentinels.map(formatAddress).join(',')}`,
    resolver: masterResolver(sentinel),
  };
}

/**
 * The address to connect to now. For --sentinel, asks the sentinels (a SentinelError — a LiveError: exit 3 when
 * none could be reached, else 1 — when no master is confirmed) and says on stderr which master it found, unless it
 * is `previous`.
 */
export async function resolveLiveTarget(target: LiveTarget, o?: Output, previous?: RedisAddress): Promise<RedisAddress> {
  if (target.kind === 'url') return { ...target.address };
  const r = await resolveMaster(target.sentinel);
  const at = formatAddress(r.address);
  if (o !== undefined && (previous === undefined || formatAddress(previous) !== at)) {
    const skipped = r.answers.filter((a) => a.outcome !== 'master');
    o.err(`${target.masterName}: master ${at} (named by sentinel ${r.sentinel}, ROLE master)${skipped.length > 0 ? `; skipped ${skipped.map((a) => `${a.sentinel} (${a.message})`).join(', ')}` : ''}`);
  }
  return r.address;
}
