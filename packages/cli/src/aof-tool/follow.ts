// aof-tool follow: continuous backup of a live server into a Redis 7 multi-part AOF directory, as a replica with
// appendonly yes keeps one (the library: followReplication of @redis-persist/live). Runs until SIGINT/SIGTERM, which
// stop it cleanly (flushed, fsynced, exit 0); lost links are retried.
import { readFile } from 'node:fs/promises';
import { FsioError, describeIoError } from '@redis-persist/fsio';
import {
  LiveError,
  followReplication,
  masterResolver,
  parseRedisUrl,
  parseSentinelList,
  watchMaster,
  type FollowEvent,
  type FollowSummary,
  type FsyncPolicy,
  type RedisAddress,
  type TlsOptions,
} from '@redis-persist/live';
import type { Command } from 'commander';
import { createOutput, describeError, formatBytes, usageError, type Output } from '../common/index.js';

interface FollowOpts {
  fsync?: string;
  rotate?: string;
  appendfilename?: string;
  sentinel?: string;
  master?: string;
  user?: string;
  password?: string;
  sentinelPassword?: string;
  cacert?: string;
  cert?: string;
  key?: string;
  insecure?: boolean;
  timeout?: string;
  maxRetries?: string;
  force?: boolean;
  json?: boolean;
}

async function readTlsFile(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new FsioError('io', `cannot read the ${what} ${path}: ${describeIoError(err)}`, { file: path, cause: err });
  }
}

/** An event as one JSON line: `event` is its type, errors as `{ code, message }`. */
function eventJson(e: FollowEvent | { type: string; [k: string]: unknown }): string {
  const { type, ...rest } = e as { type: string } & Record<string, unknown>;
  const fields: Record<string, unknown> = { event: type, time: new Date().toISOString() };
  for (const [k, v] of Object.entries(rest)) {
    fields[k] = v instanceof Error ? { code: (v as { code?: unknown }).code ?? null, message: v.message } : v;
  }
  return JSON.stringify(fields);
}

/** One line for a person, or null for events the status line shows. */
function describe(e: FollowEvent): string | null {
  switch (e.type) {
    case 'start':
      if (!e.resumed) return `${e.dir}: a new backup directory`;
      if (e.notContinuable !== null) return `${e.dir}: cannot continue (${e.notContinuable}): a full sync follows`;
      return `${e.dir}: resuming at offset ${e.offset} of ${e.replid} in ${e.file}${e.cutBytes > 0 ? ` (cut ${e.cutBytes} bytes of a torn tail first)` : ''}`;
    case 'connect':
      return `connecting to ${e.server}: ${e.continueFrom ? `PSYNC ${e.continueFrom.replid} ${e.continueFrom.offset + 1}` : 'PSYNC ? -1 (a full sync)'}`;
    case 'continue':
      return `+CONTINUE from offset ${e.offset}${e.replidChanged ? ` with a new replication id ${e.replid} (was ${e.previousReplid}: a failover)` : ''}: no gap, nothing twice`;
    case 'resync':
      return e.previous === null
        ? `+FULLRESYNC ${e.replid} ${e.offset}: receiving the snapshot`
        : `+FULLRESYNC ${e.replid} ${e.offset}: the master cannot continue from offset ${e.previous.offset} of ${e.previous.replid}; a new base follows (the files from before stay)`;
    case 'snapshot':
      return `base ${e.file}: ${formatBytes(e.bytes)}, RDB ${e.rdbVersion}, ${e.keys} keys${e.functions > 0 ? `, ${e.functions} function libraries` : ''}, ${e.format} sync in ${e.seconds.toFixed(1)} s; commands go to ${e.incr}${e.previousManifest ? `; the previous manifest is kept as ${e.previousManifest}` : ''}`;
    case 'rotate':
      return `rotated to ${e.file} at offset ${e.offset} (${e.previous}: ${formatBytes(e.bytes)})`;
    case 'replid':
      return `replication id now ${e.replid} (was ${e.previous}) from offset ${e.offset}`;
    case 'disconnect':
      return `${e.server ?? 'the master'}: ${e.error.message}; connecting again in ${(e.retryInMs / 1000).toFixed(1)} s`;
    default:
      return null;
  }
}

/** The status line on a terminal: where the stream stands, redrawn at most twice a second. */
class Status {
  private readonly enabled = Boolean(process.stderr.isTTY);
  private shown = false;
  private last = 0;
  server = '';
  offset: number | null = null;
  file: string | null = null;
  commands = 0;
  private rateBase = { at: Date.now(), commands: 0 };
  private rate = 0;

  update(force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.last < 500) return;
    this.last = now;
    if (now - this.rateBase.at >= 2000) {
      this.rate = ((this.commands - this.rateBase.commands) * 1000) / (now - this.rateBase.at);
      this.rateBase = { at: now, commands: this.commands };
    }
    if (this.offset === null) return;
    process.stderr.write(`\r\x1b[Kfollowing ${this.server}: offset ${this.offset}, ${this.commands} commands (${this.rate.toFixed(0)}/s) into ${this.file}`);
    this.shown = true;
  }

  clear(): void {
    if (this.shown) process.stderr.write('\r\x1b[K');
    this.shown = false;
  }
}

function summaryLine(s: FollowSummary): string {
  return (
    `stopped: ${s.dir} holds the stream up to offset ${s.offset ?? '-'}${s.replid ? ` of ${s.replid}` : ''} (${s.file ?? 'no incr file yet'}); ` +
    `${s.commands} commands (${formatBytes(s.bytes)}) written in this run, ${s.fullSyncs} full sync(s), ${s.partialSyncs} continuation(s), ${s.rotations} rotation(s), ${s.disconnects} reconnection(s)`
  );
}

export function registerFollow(program: Command): void {
  program
    .command('follow')
    .description(
      'continuous backup: follow a live server as a replica into a Redis 7 multi-part AOF directory (the snapshot as base, the command stream in incr files, #TS annotations); resumes after a restart with PSYNC; SIGINT/SIGTERM stop it cleanly',
    )
    .argument('<url>', 'the master: redis://[user:pass@]host:port or rediss://... (the password may also come from REDISCLI_AUTH); with --sentinel, leave it out: the only argument is the directory')
    .argument('[dir]', 'the AOF directory: new or empty (created), or one this followed into before (continued)')
    .option('--fsync <policy>', 'always | everysec | no: when the incr file is fsynced', 'everysec')
    .option('--rotate <MB>', 'start a new incr file once the current one holds this many MiB (the manifest is updated atomically)')
    .option('--appendfilename <name>', "base name of the files, as Redis' appendfilename (a resumed directory keeps its own)", 'appendonly.aof')
    .option('--sentinel <host:port,...>', 'ask these sentinels for the master (with --master) and follow failovers (+switch-master)')
    .option('--master <name>', 'with --sentinel: the name the sentinels monitor the master under')
    .option('--user <name>', 'with --sentinel: the ACL user on the master')
    .option('--password <password>', 'with --sentinel: the password of the master (also REDISCLI_AUTH)')
    .option('--sentinel-password <password>', "with --sentinel: the sentinels' own password (their requirepass)")
    .option('--cacert <file>', 'TLS: the CA certificate(s) to verify the server with (PEM)')
    .option('--cert <file>', 'TLS: a client certificate (PEM), with --key')
    .option('--key <file>', 'TLS: the private key of --cert (PEM)')
    .option('--insecure', 'TLS: do not verify the server certificate')
    .option('--timeout <seconds>', 'the link counts as lost when the master sends nothing (it PINGs every 10 s) for this long', '60')
    .option('--max-retries <n>', 'give up (exit 3) after this many failed connections in a row (default: never)')
    .option('--force', 'a non-empty directory that aof-tool follow did not write is moved aside to <dir>.bak (else it is refused)')
    .option('--json', 'one JSON line per event on stdout (commands summed per second), then a summary line')
    .action(async (first: string, second: string | undefined, opts: FollowOpts) => {
      const o: Output = createOutput();
      const fsync = opts.fsync as FsyncPolicy;
      if (!['always', 'everysec', 'no'].includes(fsync)) throw usageError(`--fsync wants always, everysec or no, got ${JSON.stringify(opts.fsync)}`);
      let rotateBytes: number | undefined;
      if (opts.rotate !== undefined) {
        const mb = Number(opts.rotate);
        if (!(mb > 0) || !Number.isFinite(mb)) throw usageError(`--rotate wants a size in MiB above 0, got ${JSON.stringify(opts.rotate)}`);
        rotateBytes = Math.max(1, Math.round(mb * 1048576));
      }
      const timeoutSeconds = Number(opts.timeout);
      if (!(timeoutSeconds > 0)) throw usageError(`--timeout wants a number of seconds above 0, got ${JSON.stringify(opts.timeout)}`);
      let maxAttempts: number | undefined;
      if (opts.maxRetries !== undefined) {
        if (!/^\d+$/.test(opts.maxRetries) || Number(opts.maxRetries) < 1) throw usageError(`--max-retries wants a whole number above 0, got ${JSON.stringify(opts.maxRetries)}`);
        maxAttempts = Number(opts.maxRetries);
      }
      if (opts.appendfilename !== undefined && (opts.appendfilename === '' || /[/\\]/.test(opts.appendfilename))) {
        throw usageError(`--appendfilename wants a file name without a directory, got ${JSON.stringify(opts.appendfilename)}`);
      }

      // where the master is: a URL, or the sentinels
      let dir: string;
      let address: RedisAddress | null = null;
      const tlsFiles = opts.cacert !== undefined || opts.cert !== undefined || opts.key !== undefined || opts.insecure;
      if ((opts.cert === undefined) !== (opts.key === undefined)) throw usageError('--cert and --key go together');
      const tls: TlsOptions | undefined = tlsFiles
        ? {
            ca: opts.cacert !== undefined ? await readTlsFile(opts.cacert, 'CA certificate') : undefined,
            cert: opts.cert !== undefined ? await readTlsFile(opts.cert, 'client certificate') : undefined,
            key: opts.key !== undefined ? await readTlsFile(opts.key, 'client key') : undefined,
            rejectUnauthorized: !opts.insecure,
          }
        : undefined;
      if (opts.sentinel !== undefined) {
        if (opts.master === undefined) throw usageError('--sentinel needs --master <name>: the name the sentinels monitor the master under');
        if (second !== undefined) throw usageError(`with --sentinel the only argument is the directory; got ${JSON.stringify(first)} and ${JSON.stringify(second)}`);
        dir = first;
        try {
          parseSentinelList(opts.sentinel);
        } catch (err) {
          if (err instanceof LiveError) throw usageError(describeError(err));
          throw err;
        }
      } else {
        if (opts.master !== undefined) throw usageError('--master goes with --sentinel');
        if (opts.sentinelPassword !== undefined) throw usageError('--sentinel-password goes with --sentinel');
        if (opts.user !== undefined || opts.password !== undefined) throw usageError('--user and --password go with --sentinel (put them in the URL otherwise)');
        if (second === undefined) throw usageError('follow wants the master and a directory: aof-tool follow redis://host:port <dir> (or --sentinel h:p,... --master <name> <dir>)');
        dir = second;
        try {
          address = parseRedisUrl(first);
        } catch (err) {
          if (err instanceof LiveError) throw usageError(describeError(err));
          throw err;
        }
        if (address.password === undefined && process.env.REDISCLI_AUTH) address = { ...address, password: process.env.REDISCLI_AUTH };
        if (tlsFiles && !address.tls) throw usageError('--cacert, --cert, --key and --insecure are for TLS: use a rediss:// address');
      }

      const stop = new AbortController();
      const sentinelOptions =
        opts.sentinel !== undefined
          ? { sentinels: opts.sentinel, masterName: opts.master!, username: opts.user, password: opts.password ?? process.env.REDISCLI_AUTH, sentinelPassword: opts.sentinelPassword, tls }
          : null;
      const master = sentinelOptions !== null ? masterResolver(sentinelOptions) : address!;
      const status = new Status();
      // --json: the commands written are summed per second
      let pending: { count: number; bytes: number; skipped: number; from: number; offset: number; file: string } | null = null;
      const flushCommands = () => {
        if (pending === null) return;
        o.out(eventJson({ type: 'commands', ...pending }));
        pending = null;
      };
      const jsonTimer = opts.json ? setInterval(flushCommands, 1000) : null;
      const onEvent = (e: FollowEvent) => {
        if (e.type === 'commands') {
          status.commands += e.count;
          status.offset = e.offset;
          status.file = e.file;
          if (opts.json) {
            if (pending === null || pending.file !== e.file) {
              flushCommands();
              pending = { count: 0, bytes: 0, skipped: 0, from: e.from, offset: e.offset, file: e.file };
            }
            pending.count += e.count;
            pending.bytes += e.bytes;
            pending.skipped += e.skipped;
            pending.offset = e.offset;
          }
          status.update();
          return;
        }
        if (e.type === 'connect') status.server = e.server;
        if (e.type === 'snapshot') {
          status.offset = e.offset;
          status.file = e.incr;
        }
        if (e.type === 'start' && e.offset !== null) {
          status.offset = e.offset;
          status.file = e.file;
        }
        if (e.type === 'continue') status.offset = e.offset;
        if (e.type === 'rotate') status.file = e.file;
        if (opts.json) {
          flushCommands();
          if (e.type !== 'stop') o.out(eventJson(e));
          return;
        }
        const line = describe(e);
        if (line !== null) {
          status.clear();
          o.err(line);
          status.update(true);
        }
      };

      const follower = followReplication({
        master,
        dir,
        appendFilename: opts.appendfilename === 'appendonly.aof' ? undefined : opts.appendfilename,
        fsync,
        rotateBytes,
        tls,
        timeoutMs: timeoutSeconds * 1000,
        retry: { maxAttempts },
        force: opts.force,
        signal: stop.signal,
        onEvent,
      });
      const statusTimer = setInterval(() => status.update(), 500);

      // Sentinel: a +switch-master makes the follower find the master again at once
      const watch =
        sentinelOptions !== null
          ? watchMaster({
              ...sentinelOptions,
              signal: stop.signal,
              onSwitch: (s) => {
                const line = `+switch-master ${s.masterName}: now ${s.to.host}:${s.to.port} (told by ${s.sentinel})`;
                if (opts.json) o.out(eventJson({ type: 'switch-master', master: s.masterName, to: `${s.to.host}:${s.to.port}`, sentinel: s.sentinel, reason: s.reason }));
                else {
                  status.clear();
                  o.err(line);
                }
                follower.reconnect(line);
              },
            })
          : null;
      watch?.ready.catch(() => undefined); // the resolver reports unreachable sentinels

      // SIGINT / SIGTERM: a clean stop (the common runner's SIGINT exit is set aside meanwhile); a second one exits
      const previous = process.listeners('SIGINT');
      for (const l of previous) process.off('SIGINT', l);
      let signals = 0;
      const onSignal = (sig: NodeJS.Signals) => {
        signals++;
        if (signals > 1) {
          process.stderr.write(`\n${sig} again: exiting without waiting\n`);
          process.exit(130);
        }
        status.clear();
        if (!opts.json) o.err(`${sig}: stopping (flushing and fsyncing)`);
        stop.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const summary = await follower.done;
        status.clear();
        flushCommands();
        if (opts.json) o.out(eventJson({ type: 'summary', ...summary }));
        else o.out(summaryLine(summary));
      } catch (err) {
        flushCommands();
        if (opts.json) o.out(eventJson({ type: 'error', error: err instanceof Error ? err : new Error(String(err)) }));
        throw err;
      } finally {
        clearInterval(statusTimer);
        if (jsonTimer) clearInterval(jsonTimer);
        status.clear();
        stop.abort();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        for (const l of previous) process.on('SIGINT', l as (...args: unknown[]) => void);
      }
    });
}
