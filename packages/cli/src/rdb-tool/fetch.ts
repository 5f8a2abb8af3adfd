import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { isRedisPersistError } from '@redis-persist/bytes';
import { describeIoError, FsioError } from '@redis-persist/fsio';
import {
  LiveError,
  fetchClusterSnapshots,
  fetchSnapshotToFile,
  type ClusterFetchResult,
  type FetchResult,
  type RedisAddress,
  type SnapshotProgress,
} from '@redis-persist/live';
import type { Command } from 'commander';
import { CliExit, ExitCode, createOutput, exitCodeOf, formatBytes, interruptSignal, usageError, type Output } from '../common/index.js';
import { addLiveTargetOptions, liveTarget, resolveLiveTarget, type LiveTargetCliOptions } from '../common/live-target.js';

interface FetchOpts extends LiveTargetCliOptions {
  output?: string;
  cluster?: boolean;
  functionsOnly?: boolean;
  cacert?: string;
  cert?: string;
  key?: string;
  insecure?: boolean;
  force?: boolean;
  json?: boolean;
  timeout?: string;
}

/** A status line on stderr, only on a terminal: bytes, MiB/s and (when the size is known) the ETA; erased at the end. */
class FetchProgress {
  private last = 0;
  private shown = false;
  private readonly enabled = Boolean(process.stderr.isTTY);
  label = '';

  update(p: SnapshotProgress): void {
    if (!this.enabled || p.phase === 'done') return;
    const now = Date.now();
    if (now - this.last < 200) return;
    this.last = now;
    let text: string;
    if (p.phase === 'handshake') text = 'connected, asking for a snapshot';
    else if (p.phase === 'waiting' || (p.phase === 'transfer' && p.bytes === 0)) text = `waiting for the server to prepare the snapshot (${Math.round(p.elapsedMs / 1000)} s)`;
    else {
      this.transferStart ??= { at: now, bytes: p.bytes };
      const secs = (now - this.transferStart.at) / 1000;
      const rate = secs > 0.2 ? (p.bytes - this.transferStart.bytes) / secs : 0;
      const mib = (n: number) => (n / 1048576).toFixed(1);
      text = p.totalBytes !== null ? `${mib(p.bytes)} of ${mib(p.totalBytes)} MiB (${((100 * p.bytes) / Math.max(1, p.totalBytes)).toFixed(0)}%)` : `${mib(p.bytes)} MiB`;
      if (rate > 0) {
        text += `, ${mib(rate)} MiB/s`;
        if (p.totalBytes !== null) text += `, ETA ${Math.max(0, Math.ceil((p.totalBytes - p.bytes) / rate))} s`;
      }
    }
    process.stderr.write(`\r\x1b[K${this.label}: ${text}`);
    this.shown = true;
  }

  private transferStart: { at: number; bytes: number } | undefined;

  next(label: string): void {
    this.done();
    this.label = label;
    this.transferStart = undefined;
  }

  done(): void {
    if (this.shown) process.stderr.write('\r\x1b[K');
    this.shown = false;
  }
}

async function readTlsFile(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new FsioError('io', `cannot read the ${what} ${path}: ${describeIoError(err)}`, { file: path, cause: err });
  }
}

function summaryJson(r: FetchResult) {
  return {
    server: r.server,
    output: r.path,
    bytes: r.bytes,
    keys: r.check?.keys ?? null,
    functions: r.check?.functions ?? null,
    dbs: r.check?.dbs ?? null,
    rdbVersion: r.check?.rdbVersion ?? null,
    checksum: r.check?.checksum ?? null,
    replid: r.info.replid,
    offset: r.info.offset,
    sync: r.info.command,
    format: r.info.format === 'eof' ? 'diskless' : 'disk',
    rdbOnly: r.info.rdbOnly,
    functionsOnly: r.info.functionsOnly,
    seconds: r.seconds,
    backup: r.backup,
  };
}

function describeFetch(r: FetchResult, shownPath: string): string {
  const c = r.check!;
  const crc = c.checksum === 'ok' ? 'CRC64 OK' : c.checksum === 'disabled' ? 'checksum disabled on the server (rdbchecksum no)' : 'no checksum (RDB < 5)';
  const sync = r.info.format === 'eof' ? 'diskless' : 'disk-based';
  const where = r.info.replid !== null ? `, replid ${r.info.replid} offset ${r.info.offset}` : ' (SYNC: no replication id)';
  const fns = c.functions > 0 || r.info.functionsOnly ? `, ${c.functions} function librar${c.functions === 1 ? 'y' : 'ies'}` : '';
  return `${r.server} -> ${shownPath}: ${formatBytes(r.bytes)}, RDB ${c.rdbVersion}, ${c.keys} keys in ${c.dbs.length} db(s)${fns}, ${crc}; ${sync} sync${where}; ${r.seconds.toFixed(1)} s`;
}

function printFailure(o: Output, json: boolean, base: Record<string, unknown>, err: unknown, message: string): void {
  if (!json) return;
  const code = err instanceof LiveError ? err.code : isRedisPersistError(err) && err.kind === 'data' ? 'verify' : 'io';
  o.json({ ok: false, ...base, error: { code, message } });
}

export function registerFetch(program: Command): void {
  const cmd = program
    .command('fetch')
    .description('fetch a snapshot from a live server the way a replica does (as redis-cli --rdb), verify it while it streams (structure, CRC64) and write it atomically; --cluster: every master of a cluster')
    .argument('[url]', 'the server: redis://[user:pass@]host:port, rediss://... for TLS (the password may also come from REDISCLI_AUTH); or --sentinel with --master')
    .requiredOption('-o, --output <path>', 'the RDB file to write (with --cluster: a directory, <node id>.rdb per master and nodes.json)')
    .option('--cluster', 'the address is a seed node: fetch every master of its cluster into the directory -o, with nodes.json (as redis-cli --cluster backup)')
    .option('--functions-only', 'only the functions, no keys (as redis-cli --functions-rdb; Redis 7.0+)')
    .option('--cacert <file>', 'TLS: the CA certificate(s) to verify the server with (PEM)')
    .option('--cert <file>', 'TLS: a client certificate (PEM), with --key')
    .option('--key <file>', 'TLS: the private key of --cert (PEM)')
    .option('--insecure', 'TLS: do not verify the server certificate')
    .option('--timeout <seconds>', 'fail when the server sends nothing (not even a keep-alive) for this long', '60')
    .option('--force', 'replace an existing output (the old one is kept as <out>.bak)')
    .option('--json', 'print one JSON document describing the result');
  addLiveTargetOptions(cmd).action(async (url: string | undefined, opts: FetchOpts) => {
      const o = createOutput();
      const output = opts.output!;
      const tlsFiles = opts.cacert !== undefined || opts.cert !== undefined || opts.key !== undefined || opts.insecure;
      const live = liveTarget(url, opts, { tls: Boolean(tlsFiles) });
      if (live.kind === 'sentinel' && opts.cluster) throw usageError('--cluster takes a seed node URL, not --sentinel (a cluster has no sentinels)');
      let address: RedisAddress = await resolveLiveTarget(live, o);
      if (address.password === undefined && process.env.REDISCLI_AUTH) address = { ...address, password: process.env.REDISCLI_AUTH };
      if (tlsFiles && !address.tls) throw usageError('--cacert, --cert, --key and --insecure are for TLS: use a rediss:// address');
      if ((opts.cert === undefined) !== (opts.key === undefined)) throw usageError('--cert and --key go together');
      const timeoutSeconds = Number(opts.timeout);
      if (!(timeoutSeconds > 0)) throw usageError(`--timeout wants a number of seconds above 0, got ${JSON.stringify(opts.timeout)}`);
      const tls = address.tls
        ? {
            ca: opts.cacert !== undefined ? await readTlsFile(opts.cacert, 'CA certificate') : undefined,
            cert: opts.cert !== undefined ? await readTlsFile(opts.cert, 'client certificate') : undefined,
            key: opts.key !== undefined ? await readTlsFile(opts.key, 'client key') : undefined,
            rejectUnauthorized: !opts.insecure,
          }
        : undefined;
      const progress = new FetchProgress();
      const common = { tls, functionsOnly: opts.functionsOnly, timeoutMs: timeoutSeconds * 1000, force: opts.force, signal: interruptSignal(), onProgress: (p: SnapshotProgress) => progress.update(p) };
      const base = { server: `${address.host}:${address.port}`, output };
      try {
        if (opts.cluster) {
          const r: ClusterFetchResult = await fetchClusterSnapshots(address, output, {
            ...common,
            onNode: (e) => {
              if (e.result === undefined) progress.next(`${e.node.host}:${e.node.port} (master ${e.index + 1} of ${e.count})`);
              else {
                progress.done();
                if (!opts.json) o.err(`${describeFetch(e.result, `${basename(output)}/${e.node.name}.rdb`)}`);
              }
            },
          });
          progress.done();
          if (opts.json) {
            o.json({
              ok: true,
              seed: base.server,
              output,
              masters: r.masters.map((m) => ({ id: m.node.name, slots: m.node.slots, file: m.file, ...summaryJson(m.result), output: undefined })),
              nodes: r.nodes.length,
              keys: r.masters.reduce((n, m) => n + (m.result.check?.keys ?? 0), 0),
              bytes: r.masters.reduce((n, m) => n + m.result.bytes, 0),
              seconds: r.seconds,
              backup: r.backup,
            });
          } else {
            const keys = r.masters.reduce((n, m) => n + (m.result.check?.keys ?? 0), 0);
            o.out(`fetched ${r.masters.length} master(s) into ${output}: ${keys} keys, nodes.json with ${r.nodes.length} node(s); ${r.seconds.toFixed(1)} s`);
            if (r.backup) o.out(`the directory that was there is kept as ${r.backup}`);
          }
          return;
        }
        progress.next(`fetching ${base.server}`);
        const r = await fetchSnapshotToFile(address, output, common);
        progress.done();
        if (opts.json) o.json({ ok: true, ...summaryJson(r), output });
        else {
          o.out(`fetched ${describeFetch(r, output)}`);
          if (r.backup) o.out(`the file that was there is kept as ${r.backup}`);
        }
      } catch (err) {
        progress.done();
        if (err instanceof LiveError) {
          printFailure(o, opts.json ?? false, base, err, err.message);
          throw new CliExit(exitCodeOf(err), `${err.message}; nothing was written`);
        }
        if (isRedisPersistError(err) && err.kind === 'data') {
          const message = `the snapshot failed verification, nothing was written: ${err.message}`;
          printFailure(o, opts.json ?? false, base, err, message);
          throw new CliExit(ExitCode.Problem, message);
        }
        throw err;
      }
    });
}
