// `aof-tool strip`: remove the occurrences of the named commands (a stray FLUSHALL, an accidental DEL...) and
// nothing else: all of them, or those the selectors keep (a place, the last one, a time window, key globs). The
// surviving bytes are copied verbatim (a DEL/MSET losing only some of its keys is the one command re-encoded);
// inside MULTI/EXEC only the command goes, and a transaction left empty goes entirely. Only files that change are
// rewritten (temp + fsync + rename, original kept as a backup).
import { stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { matchGlob, parseCanonicalSafeInt, type RedisPersistErrorInit } from '@redis-persist/bytes';
import { AtomicDir, AtomicFile, backupFile, checkOutput, readFileChunks, requireRegularFile, resolvePath, writeFileAtomic } from '@redis-persist/fsio';
import { checkAof, type AofCheckReport } from './check.js';
import { AofError } from './errors.js';
import { isRdbHead, readHead, readManifest, resolveAofInput } from './input.js';
import { duplicateManifestEntry, formatManifest, loadedFiles, reprQuote } from './manifest.js';
import { copyRanges, rewriteWithRanges, type ByteRange } from './ranges.js';
import { AofScanner, type AofScanEvent } from './scanner.js';
import { commandKeys } from './keys.js';
import { checkRdbPart } from './rdb-part.js';

/** One command removed (or to be removed, in a dry run) by {@link stripAof}: file, offset, db, time. */
export interface StrippedCommand {
  file: string;
  offset: number;
  length: number;
  db: number;
  timestamp: number | null;
  args: Uint8Array[];
  /** A MULTI or EXEC removed because its transaction became empty. */
  emptiedTransaction: boolean;
  /**
   * With `keys`: a DEL/UNLINK/MSET/MSETNX of which only some keys match is not removed but rewritten to these
   * arguments (the keys that do not match, with their values for MSET); null when the command goes whole.
   */
  rewrittenTo: Uint8Array[] | null;
}

/** A place as `cat` and a dry run print it: a file of the AOF (for a multi-part AOF its manifest name) and an offset. */
export interface StripPlace {
  file: string;
  offset: number;
}

/**
 * Options of {@link stripAof}: the commands (and places, time window or keys) to remove, output or in place, dry
 * run.
 */
export interface StripOptions {
  /** Command names to remove (case-insensitive). */
  commands: string[];
  /**
   * Only the occurrences at these places (`<file>:<offset>` as `cat` and a dry run print them, or objects). Each
   * must name an occurrence of one of `commands` that the other selectors keep, else nothing is done and a
   * {@link StripSelectionError} says why.
   */
  at?: (string | StripPlace)[];
  /** Of the occurrences the other selectors keep, only the last one (in load order across all files). */
  last?: boolean;
  /**
   * Only occurrences whose timestamp (the last `#TS:` annotation before them, across files in load order)
   * is at least this (Unix seconds, inclusive). Occurrences before the first annotation have no time: never
   * selected by `since`/`until` (counted in {@link StripResult.untimed}). An AOF without any `#TS:` annotation
   * is refused.
   */
  since?: number;
  /** Only occurrences whose timestamp is at most this (Unix seconds, inclusive); see `since`. */
  until?: number;
  /**
   * Only occurrences that write keys matching one of these Redis globs. A command whose keys all match goes; one
   * with no matching key stays; one where only some match is rewritten without them when that is exact (DEL,
   * UNLINK: the other keys stay; MSET, MSETNX: the other pairs stay), else refused with a
   * {@link StripSelectionError} naming the place.
   */
  keys?: (string | Uint8Array)[];
  /** Write the result here instead of editing in place (a file for a single AOF, a new directory for a multi-part one). */
  output?: string;
  /** Report what would be removed; change nothing. */
  dryRun?: boolean;
  /** Keep the originals as `<name>.bak` when editing in place (default true). */
  backup?: boolean;
  /** Replace an existing `output` (kept as `<output>.bak` first). */
  force?: boolean;
  /**
   * Stops the strip: checked once per chunk read or copied. When aborted the call rejects with `signal.reason`
   * (an `AbortError` DOMException by default): files closed, temp files removed, nothing changed. An in-place
   * edit of a multi-part AOF that has already replaced one of its files finishes the others (stopping there would
   * leave the AOF half-edited).
   */
  signal?: AbortSignal;
  /**
   * Called for every command removed or rewritten, in load order, once the whole selection is known and valid
   * (before anything is written).
   */
  onRemoved?: (cmd: StrippedCommand) => void;
  /** Called with bytes processed so far and the total (progress display). */
  onProgress?: (progress: { bytes: number; totalBytes: number }) => void;
}

/** What {@link stripAof} did to one file. */
export interface StripFileResult {
  file: string;
  path: string;
  removed: number;
  /** Commands rewritten without the keys that matched (see {@link StripOptions.keys}). */
  rewritten: number;
  bytesBefore: number;
  bytesAfter: number;
  /** Where the file was written (in place, or in the output). */
  writtenTo: string | null;
  backup: string | null;
}

/** What {@link stripAof} did: commands removed or rewritten, per file, and where the backups are. */
export interface StripResult {
  removed: number;
  rewritten: number;
  /** With `since`/`until`: occurrences left alone because no `#TS:` annotation came before them. */
  untimed: number;
  files: StripFileResult[];
  dryRun: boolean;
  output: string | null;
  /** Where an output that `force` replaced now lives. */
  replacedBackup: string | null;
}

/**
 * A selection that cannot be applied, nothing changed: an `at` that names no occurrence the selectors keep
 * (`reason: 'at'`), `since`/`until` on an AOF without `#TS:` annotations (`'no-timestamps'`), a command of which
 * only some keys match and that cannot be rewritten exactly (`'partial-keys'`).
 */
export class StripSelectionError extends AofError {
  override readonly name = 'StripSelectionError';
  /**
   * Takes the reason where other classes take their code (the code is `unsupported`): a place or a window that
   * selects nothing is a request to change (kind `usage`), a command cut in part a limit of the data (`data`).
   */
  constructor(
    readonly reason: 'at' | 'no-timestamps' | 'partial-keys',
    detail: string,
    init: RedisPersistErrorInit = {},
  ) {
    super('unsupported', detail, { ...init, kind: init.kind ?? (reason === 'partial-keys' ? 'data' : 'usage') });
  }
}

const FORBIDDEN = new Set(['multi', 'exec', 'select']);

/** Commands that can lose some of their keys exactly: which arguments go with a key. */
const REWRITABLE: Record<string, 'keys' | 'pairs'> = { del: 'keys', unlink: 'keys', mset: 'pairs', msetnx: 'pairs' };

type Role = 'single' | 'base' | 'incr';

interface Job {
  file: string;
  path: string;
  role: Role;
}

interface FilePlan extends Job {
  size: number;
}

/** A transaction holding a candidate: filled in at its EXEC. */
interface Tx {
  multi: ByteRange;
  multiTs: number | null;
  multiDb: number;
  multiArgs: Uint8Array[];
  exec: ByteRange | null;
  execTs: number | null;
  execDb: number;
  execArgs: Uint8Array[];
  /** Commands inside it (MULTI and EXEC not counted). */
  total: number;
}

/** An occurrence the selectors keep (so far: `last` and refusals are settled at the end). */
interface Candidate {
  fileIndex: number;
  file: string;
  offset: number;
  end: number;
  db: number;
  ts: number | null;
  args: Uint8Array[];
  tx: Tx | null;
  rewrite: Uint8Array[] | null;
  /** Why it cannot be cut (some keys match, the command cannot lose them exactly). */
  refuse: string | null;
}

/** One `at` place and what the scan found there. */
interface AtPlace {
  text: string;
  fileIndex: number;
  offset: number;
  hit: boolean;
  /** What is there when it is not selected. */
  found: string | null;
}

interface Selection {
  names: Set<string>;
  since?: number;
  until?: number;
  timed: boolean;
  patterns: Uint8Array[] | null;
  /** fileIndex -> offset -> place. */
  at: Map<number, Map<number, AtPlace>> | null;
  last: boolean;
}

interface ScanState {
  ts: number | null;
  sawTimestamp: boolean;
  untimed: number;
  candidates: Candidate[];
}

function lowerName(name: Uint8Array): string {
  return Buffer.from(name).toString('latin1').toLowerCase();
}

function show(arg: Uint8Array): string {
  return reprQuote(arg);
}

/** Parses `<file>:<offset>` (the file part may itself hold colons: the offset follows the last one). */
export function parseStripPlace(text: string): StripPlace {
  const colon = text.lastIndexOf(':');
  const offsetText = colon >= 0 ? text.slice(colon + 1) : '';
  if (colon <= 0 || !/^\d+$/.test(offsetText) || !Number.isSafeInteger(Number(offsetText))) {
    throw new StripSelectionError('at', `\`at\` wants <file>:<offset> as cat and \`dryRun\` print places (e.g. appendonly.aof.2.incr.aof:153), got ${JSON.stringify(text)}`);
  }
  return { file: text.slice(0, colon), offset: Number(offsetText) };
}

/** Which of the loaded files a place names: the name cat prints, or a path to it. */
function placeFile(place: StripPlace, jobs: Job[]): number {
  const exact = jobs.findIndex((j) => j.file === place.file);
  if (exact >= 0) return exact;
  const full = resolve(place.file);
  const byPath = jobs.findIndex((j) => resolve(j.path) === full);
  if (byPath >= 0) return byPath;
  return jobs.findIndex((j) => basename(j.path) === basename(place.file));
}

/** The arguments a command keeps without the keys that match, or null when it cannot lose them exactly. */
function rewriteWithout(args: Uint8Array[], name: string, matches: (key: Uint8Array) => boolean): Uint8Array[] | null {
  const how = REWRITABLE[name];
  if (how === 'keys') return [args[0], ...args.slice(1).filter((k) => !matches(k))];
  if (how === 'pairs') {
    if (args.length % 2 !== 1) return null;
    const out = [args[0]];
    for (let i = 1; i + 1 < args.length; i += 2) if (!matches(args[i])) out.push(args[i], args[i + 1]);
    return out;
  }
  return null;
}

/** A command in canonical RESP, as Redis writes it to an AOF. */
function encodeCommand(args: Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [Buffer.from(`*${args.length}\r\n`, 'latin1')];
  for (const a of args) parts.push(Buffer.from(`$${a.length}\r\n`, 'latin1'), a, Buffer.from('\r\n', 'latin1'));
  return Buffer.concat(parts);
}

/** Scans one file: the occurrences the selectors keep, with their transactions. */
async function scanFile(job: Job, fileIndex: number, sel: Selection, state: ScanState, options: StripOptions, progress: { done: number; total: number }): Promise<FilePlan> {
  const size = (await stat(job.path)).size;
  const plan: FilePlan = { ...job, size };
  if (size === 0) return plan;
  let start = 0;
  if (job.role !== 'incr' && isRdbHead(await readHead(job.path, 8), size)) start = (await checkRdbPart(job.path, job.file)).endOffset;
  const names = sel.names;
  // arguments are needed for SELECT (the db) and for the commands named (the report, the keys); the rest is only copied
  const scanner = new AofScanner({ collectArgs: (n) => { const l = lowerName(n); return l === 'select' || names.has(l); }, startOffset: start, path: job.path });
  const atHere = sel.at?.get(fileIndex) ?? null;
  let db = 0;
  let tx: Tx | null = null;
  const consider = (ev: AofScanEvent & { type: 'command' }, args: Uint8Array[], name: string): void => {
    const place = atHere?.get(ev.offset) ?? null;
    if (sel.at !== null && place === null) return;
    const what = `${name.toUpperCase()} there`;
    const ts = state.ts;
    if (sel.timed) {
      if (ts === null) {
        state.untimed++;
        if (place) place.found = `the ${what} comes before the first #TS: annotation: it has no time to compare with \`since\`/\`until\``;
        return;
      }
      if ((sel.since !== undefined && ts < sel.since) || (sel.until !== undefined && ts > sel.until)) {
        if (place) place.found = `the ${what} has the time ${ts} (${new Date(ts * 1000).toISOString()}), outside the \`since\`/\`until\` window`;
        return;
      }
    }
    let rewrite: Uint8Array[] | null = null;
    let refuse: string | null = null;
    const patterns = sel.patterns;
    if (patterns !== null) {
      const matches = (k: Uint8Array) => patterns.some((p) => matchGlob(p, k));
      const keys = commandKeys(args);
      const hit = keys.filter(matches);
      if (hit.length === 0) {
        if (place) place.found = keys.length === 0 ? `the ${what} names no key, so \`keys\` never selects it` : `the ${what} touches no key matching \`keys\` (${keys.map(show).join(' ')})`;
        return;
      }
      if (hit.length < keys.length) {
        rewrite = rewriteWithout(args, name, matches);
        if (rewrite === null) {
          const others = keys.filter((k) => !matches(k));
          refuse = `${job.file}:${ev.offset}: ${name.toUpperCase()} touches ${hit.map(show).join(' ')} (matching \`keys\`) and ${others.map(show).join(' ')} (not matching): it cannot be cut in part. Narrow \`keys\`, or remove the whole command with \`at\` ${job.file}:${ev.offset} and no \`keys\``;
        }
      }
    }
    if (place) place.hit = true;
    const c: Candidate = { fileIndex, file: job.file, offset: ev.offset, end: ev.end, db, ts, args, tx, rewrite, refuse };
    if (sel.last) state.candidates[0] = c;
    else state.candidates.push(c);
  };
  const handle = (ev: AofScanEvent) => {
    if (ev.type === 'annotation') {
      const m = /^#TS:(\d+)/.exec(Buffer.from(ev.text.subarray(0, 32)).toString('latin1'));
      if (m) {
        state.ts = Number(m[1]);
        state.sawTimestamp = true;
      }
      const place = atHere?.get(ev.offset);
      if (place) place.found = 'that is an annotation line, not a command';
      return;
    }
    const args = ev.args ?? (ev.name.length > 0 ? [ev.name] : []);
    const name = lowerName(ev.name);
    if (name === 'select' && args.length >= 2) db = parseCanonicalSafeInt(args[1]) ?? db;
    if (name === 'multi') {
      tx = { multi: [ev.offset, ev.end], multiTs: state.ts, multiDb: db, multiArgs: args, exec: null, execTs: null, execDb: db, execArgs: [], total: 0 };
    } else if (name === 'exec' && tx) {
      tx.exec = [ev.offset, ev.end];
      tx.execTs = state.ts;
      tx.execDb = db;
      tx.execArgs = args;
      tx = null;
    } else {
      if (tx) tx.total++;
      if (names.has(name)) consider(ev, args, name);
    }
    const place = atHere?.get(ev.offset);
    if (place && !place.hit && place.found === null) {
      place.found = `that is ${name.toUpperCase() || 'an empty command'}, not ${[...names].map((n) => n.toUpperCase()).join(' or ')}`;
    }
  };
  for await (const chunk of readFileChunks(job.path, { start, signal: options.signal })) {
    scanner.push(chunk);
    for (let ev = scanner.next(); ev !== undefined; ev = scanner.next()) handle(ev);
    progress.done += chunk.length;
    options.onProgress?.({ bytes: progress.done, totalBytes: progress.total });
    if (scanner.done) break;
  }
  if (!scanner.done) {
    scanner.end();
    for (let ev = scanner.next(); ev !== undefined; ev = scanner.next()) handle(ev);
  }
  if (scanner.failure) throw new AofError(scanner.failure.kind, `${scanner.failure.explanation} (run 'aof-tool fix' first)`, { file: job.file, offset: scanner.failure.errorOffset });
  if (atHere) {
    for (const place of atHere.values()) {
      if (!place.hit && place.found === null) {
        place.found = place.offset < start
          ? `that is inside the RDB part of ${job.file} (it ends at offset ${start})`
          : 'no command starts there (places are the offsets cat and `dryRun` print)';
      }
    }
  }
  return plan;
}

/** What one file becomes: ranges removed, commands replaced. */
interface FileEdit {
  remove: ByteRange[];
  replace: { range: ByteRange; bytes: Uint8Array }[];
  removed: number;
  rewritten: number;
}

/** The pieces of the new file: ranges of the original, and the bytes of rewritten commands, in order. */
type Piece = ByteRange | Uint8Array;

function piecesOf(size: number, edit: FileEdit): Piece[] {
  const cuts: { range: ByteRange; bytes: Uint8Array | null }[] = [
    ...edit.remove.map((range) => ({ range, bytes: null })),
    ...edit.replace.map((r) => ({ range: r.range, bytes: r.bytes })),
  ].sort((a, b) => a.range[0] - b.range[0]);
  const pieces: Piece[] = [];
  let cur = 0;
  for (const { range, bytes } of cuts) {
    if (range[0] > cur) pieces.push([cur, range[0]]);
    if (bytes !== null) pieces.push(bytes);
    cur = Math.max(cur, range[1]);
  }
  if (cur < size) pieces.push([cur, size]);
  return pieces;
}

function sizeOf(pieces: Piece[]): number {
  let n = 0;
  for (const p of pieces) n += Array.isArray(p) ? p[1] - p[0] : p.length;
  return n;
}

async function writePieces(source: string, pieces: Piece[], out: AtomicFile, signal?: AbortSignal): Promise<void> {
  for (const p of pieces) {
    if (Array.isArray(p)) await copyRanges(source, [p], out, signal);
    else await out.write(p);
  }
  signal?.throwIfAborted();
}

/** In place: the new content under a temp name, the original kept as a backup, renamed over (as rewriteWithRanges). */
async function rewriteInPlace(path: string, pieces: Piece[], backup: boolean, signal?: AbortSignal): Promise<string | null> {
  if (pieces.every((p) => Array.isArray(p))) return (await rewriteWithRanges(path, pieces as ByteRange[], backup, signal)).backup;
  // a symbolic link is followed: the real file is edited and its backup sits beside it
  const real = await resolvePath(path);
  const out = await AtomicFile.create(real, { inPlace: true });
  try {
    await writePieces(real, pieces, out, signal);
    const backupPath = backup ? await backupFile(real) : null;
    await out.commit();
    return backupPath;
  } catch (err) {
    await out.abort();
    throw err;
  }
}

function describeDamage(report: AofCheckReport): string {
  if (report.manifestError) return report.manifestError;
  const bad = report.files.find((f) => f.error);
  if (!bad?.error) return 'the AOF is damaged';
  return `${bad.file}: offset ${bad.error.offset}: ${bad.error.explanation}`;
}

/**
 * Removes the occurrences of the named commands that the selectors keep (all of them without selectors): `at`
 * places, the `last` one, a `since`/`until` window of `#TS:` times, `keys` globs; selectors combine (AND), `last`
 * picking the last of what the others keep. The AOF must be valid (repair it first); MULTI, EXEC and SELECT
 * cannot be stripped (the result would change meaning). Inside MULTI/EXEC only the command goes; a transaction
 * left empty goes entirely. The whole selection is settled before anything is written: a selection that cannot
 * be applied throws a {@link StripSelectionError} and changes nothing.
 */
export async function stripAof(input: string, options: StripOptions): Promise<StripResult> {
  const names = new Set(options.commands.map((c) => c.toLowerCase()));
  for (const n of names) {
    if (FORBIDDEN.has(n)) throw new AofError('unsupported', `stripping ${n.toUpperCase()} would change what the other commands mean; it is not allowed`);
  }
  if (names.size === 0) throw new AofError('unsupported', 'no command to strip was given');
  for (const [what, v] of [['since', options.since], ['until', options.until]] as const) {
    if (v !== undefined && !Number.isFinite(v)) throw new StripSelectionError('at', `\`${what}\` wants a time, got ${String(v)}`);
  }
  if (options.since !== undefined && options.until !== undefined && options.since > options.until) {
    throw new StripSelectionError('at', `\`since\` (${options.since}) is later than \`until\` (${options.until}): the window is empty`);
  }
  const places = (options.at ?? []).map((a) => (typeof a === 'string' ? { text: a, place: parseStripPlace(a) } : { text: `${a.file}:${a.offset}`, place: a }));
  // a FIFO or device is refused before it is waited on (strip reads each file twice: check, then copy)
  const target = await resolveAofInput(input);
  if (target.layout === 'single') await requireRegularFile(target.path, 'strip');
  // an output is checked before any work: never the input (named or as its AOF files), never an existing file
  // without force
  if (options.output !== undefined && !options.dryRun) {
    await checkOutput(options.output, { force: options.force, inputs: [input, target.layout === 'single' ? target.path : target.dir] }, 'dir');
  }
  const signal = options.signal;
  signal?.throwIfAborted();
  const check = await checkAof(input, { signal });
  if (!check.ok) throw new AofError('unsupported', `the AOF is damaged, refusing to edit it: ${describeDamage(check)}. Run 'aof-tool fix' first`, { file: input });
  const jobs: Job[] = [];
  let manifest = null;
  if (target.layout === 'single') jobs.push({ file: input, path: target.path, role: 'single' });
  else {
    manifest = await readManifest(target.manifestPath);
    const twice = duplicateManifestEntry(manifest);
    if (twice !== null) throw new AofError('manifest', `the manifest lists ${twice} twice; refusing to edit (fix the manifest first)`, { file: target.manifestPath });
    for (const e of loadedFiles(manifest)) jobs.push({ file: e.name, path: join(target.dir, e.name), role: e.type === 'base' ? 'base' : 'incr' });
  }
  // the places, by file and offset
  let at: Selection['at'] = null;
  const atPlaces: AtPlace[] = [];
  if (options.at !== undefined) {
    at = new Map();
    for (const { text, place } of places) {
      const fileIndex = placeFile(place, jobs);
      if (fileIndex < 0) {
        throw new StripSelectionError('at', `\`at\` ${text}: no file ${place.file} in this AOF (it loads ${jobs.map((j) => j.file).join(', ')})`);
      }
      let byOffset = at.get(fileIndex);
      if (!byOffset) at.set(fileIndex, (byOffset = new Map()));
      if (byOffset.has(place.offset)) continue;
      const p: AtPlace = { text, fileIndex, offset: place.offset, hit: false, found: null };
      byOffset.set(place.offset, p);
      atPlaces.push(p);
    }
  }
  const sel: Selection = {
    names,
    since: options.since,
    until: options.until,
    timed: options.since !== undefined || options.until !== undefined,
    patterns: options.keys !== undefined ? options.keys.map((k) => (typeof k === 'string' ? Buffer.from(k, 'utf8') : k)) : null,
    at,
    last: Boolean(options.last),
  };
  const progress = { done: 0, total: check.totals.bytes };
  const state: ScanState = { ts: null, sawTimestamp: false, untimed: 0, candidates: [] };
  const plans: FilePlan[] = [];
  for (let i = 0; i < jobs.length; i++) {
    await requireRegularFile(jobs[i].path, 'strip');
    plans.push(await scanFile(jobs[i], i, sel, state, options, progress));
  }
  // the selection must apply as given, or nothing is done
  if (sel.timed && !state.sawTimestamp) {
    throw new StripSelectionError('no-timestamps', 'the AOF has no #TS: annotations, so `since`/`until` have no time to go by (Redis writes them with aof-timestamp-enabled yes)', { file: input });
  }
  for (const p of atPlaces) {
    if (!p.hit) throw new StripSelectionError('at', `\`at\` ${p.text}: ${p.found ?? 'nothing to remove there'}; nothing was changed`);
  }
  const chosen = state.candidates;
  const refused = chosen.filter((c) => c.refuse !== null);
  if (refused.length > 0) {
    const more = refused.length > 1 ? ` (and ${refused.length - 1} more such command(s))` : '';
    throw new StripSelectionError('partial-keys', `${refused[0].refuse}${more}; nothing was changed`, { file: refused[0].file, offset: refused[0].offset });
  }
  // what each file loses; a transaction whose every command goes loses its MULTI and EXEC too
  const edits: FileEdit[] = plans.map(() => ({ remove: [], replace: [], removed: 0, rewritten: 0 }));
  const reports: StrippedCommand[] = [];
  const removedIn = new Map<Tx, number>();
  for (const c of chosen) {
    const e = edits[c.fileIndex];
    const report: StrippedCommand = { file: c.file, offset: c.offset, length: c.end - c.offset, db: c.db, timestamp: c.ts, args: c.args, emptiedTransaction: false, rewrittenTo: c.rewrite };
    if (c.rewrite !== null) {
      e.replace.push({ range: [c.offset, c.end], bytes: encodeCommand(c.rewrite) });
      e.rewritten++;
    } else {
      e.remove.push([c.offset, c.end]);
      e.removed++;
      if (c.tx) removedIn.set(c.tx, (removedIn.get(c.tx) ?? 0) + 1);
    }
    reports.push(report);
  }
  for (const [tx, n] of removedIn) {
    if (n < tx.total || tx.exec === null) continue;
    const fileIndex = chosen.find((c) => c.tx === tx)!.fileIndex;
    const e = edits[fileIndex];
    const file = jobs[fileIndex].file;
    for (const [range, ts, db, args] of [[tx.multi, tx.multiTs, tx.multiDb, tx.multiArgs], [tx.exec, tx.execTs, tx.execDb, tx.execArgs]] as const) {
      e.remove.push(range);
      e.removed++;
      reports.push({ file, offset: range[0], length: range[1] - range[0], db, timestamp: ts, args, emptiedTransaction: true, rewrittenTo: null });
    }
  }
  // reported in load order, once the selection is settled
  const order = new Map(jobs.map((j, i) => [j.file, i]));
  reports.sort((a, b) => order.get(a.file)! - order.get(b.file)! || a.offset - b.offset);
  for (const r of reports) options.onRemoved?.(r);
  const pieces = plans.map((p, i) => piecesOf(p.size, edits[i]));
  const result: StripResult = {
    removed: edits.reduce((n, e) => n + e.removed, 0),
    rewritten: edits.reduce((n, e) => n + e.rewritten, 0),
    untimed: state.untimed,
    files: [],
    dryRun: Boolean(options.dryRun),
    output: options.output ?? null,
    replacedBackup: null,
  };
  const fileResult = (i: number, writtenTo: string | null, backup: string | null): StripFileResult => ({
    file: plans[i].file,
    path: plans[i].path,
    removed: edits[i].removed,
    rewritten: edits[i].rewritten,
    bytesBefore: plans[i].size,
    bytesAfter: sizeOf(pieces[i]),
    writtenTo,
    backup,
  });
  const changes = (i: number) => edits[i].removed + edits[i].rewritten > 0;
  if (options.dryRun) {
    result.files = plans.map((_, i) => fileResult(i, null, null));
    return result;
  }
  if (options.output === undefined) {
    // the signal holds until a file is replaced: after that the others are edited too (no half-edited AOF)
    let replacedOne = false;
    for (let i = 0; i < plans.length; i++) {
      if (!changes(i)) {
        result.files.push(fileResult(i, null, null));
        continue;
      }
      const backup = await rewriteInPlace(plans[i].path, pieces[i], options.backup ?? true, replacedOne ? undefined : signal);
      replacedOne = true;
      result.files.push(fileResult(i, plans[i].path, backup));
    }
    return result;
  }
  const policy = { force: options.force, inputs: [input, ...jobs.map((j) => j.path)] };
  if (target.layout === 'single') {
    const file = await AtomicFile.create(options.output, policy);
    try {
      await writePieces(target.path, pieces[0], file, signal);
      await file.commit();
    } catch (err) {
      await file.abort();
      throw err;
    }
    result.files.push(fileResult(0, options.output, null));
    result.replacedBackup = file.replacedBackup;
    return result;
  }
  // multi-part: a new directory holding the manifest (history entries dropped: Redis never loads them) and every
  // loaded file, built under a temp name and renamed into place whole (a killed run leaves nothing to trip on)
  const out = await AtomicDir.create(options.output, policy);
  try {
    for (let i = 0; i < plans.length; i++) {
      const p = plans[i];
      const dest = out.path(basename(p.path));
      const file = await AtomicFile.create(dest, { lock: false });
      try {
        await writePieces(p.path, pieces[i], file, signal);
        await file.commit();
      } catch (err) {
        await file.abort();
        throw err;
      }
      result.files.push(fileResult(i, join(options.output, basename(p.path)), null));
    }
    await writeFileAtomic(out.path(basename(target.manifestPath)), formatManifest({ ...manifest!, history: [] }), { lock: false });
    await out.commit();
  } catch (err) {
    await out.abort();
    throw err;
  }
  result.replacedBackup = out.replacedBackup;
  return result;
}
