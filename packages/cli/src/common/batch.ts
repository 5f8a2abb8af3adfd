// `rdb-tool check` and `aof-tool check` over many paths (a backup set in CI): files, directories and globs are
// expanded into inputs, each input is checked once, in order, and the results give one line each and a summary,
// or one JSON document, or a JUnit report. Exit code: 0 all valid, 3 if any input is unreadable, else 1 if any
// is damaged. With one plain path the tools keep their detailed single-file output; this module is the rest.
import { lstat, readdir, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Chalk } from 'chalk';
import { isRedisPersistError } from '@redis-persist/bytes';
import { checkOutput, describeIoError, writeFileAtomic } from '@redis-persist/fsio';
import { ExitCode } from './exit.js';
import { describeError } from './run.js';
import type { Output } from './output.js';
import { junitXml, type JunitCase } from './junit.js';

// ---------------------------------------------------------------------------------------------------------------
// Globs (for shells that did not expand them: a quoted 'backups/*.rdb', a CI variable, Windows-style callers)

/** True when `pattern` has an unescaped `*`, `?` or `[`. */
export function hasGlobMagic(pattern: string): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i++;
    else if (c === '*' || c === '?' || c === '[') return true;
  }
  return false;
}

/** Where the `[` at `start` closes (a `]` right after `[`, `[!` or `[^` is a member), or -1. */
function classEnd(seg: string, start: number): number {
  let j = start + 1;
  if (seg[j] === '!' || seg[j] === '^') j++;
  if (seg[j] === ']') j++;
  for (; j < seg.length; j++) if (seg[j] === ']') return j;
  return -1;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

/**
 * One path segment of a shell glob as a RegExp: `*`, `?`, `[abc]`, `[a-z]`, `[!x]` / `[^x]`, `\` escapes. As in
 * sh, a name starting with `.` is matched only by a segment that starts with `.` (see {@link expandGlob}).
 */
export function globSegmentRegExp(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i];
    if (c === '\\' && i + 1 < seg.length) re += escapeRe(seg[++i]);
    else if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = classEnd(seg, i);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let body = seg.slice(i + 1, end);
      const negate = body[0] === '!' || body[0] === '^';
      if (negate) body = body.slice(1);
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]^[]/g, '\\$&')}]`;
      i = end;
    } else re += escapeRe(c);
  }
  try {
    return new RegExp(`^${re}$`, 's');
  } catch {
    return new RegExp(`^${escapeRe(seg)}$`, 's'); // a class like [z-a]: the segment taken literally
  }
}

const unescapeGlob = (seg: string) => seg.replace(/\\(.)/g, '$1');

export interface GlobLimits {
  /** Directory entries looked at, in all (a `**` over / stops here). Default 200 000. */
  maxEntries?: number;
  /** Directory levels a `**` descends. Default 32. */
  maxDepth?: number;
}

export class GlobTooBroad extends Error {}

/**
 * The paths matching a shell glob (`*`, `?`, `[...]` within a segment; `**` for any number of directories, symbolic
 * links to directories not followed), sorted, spelled as the pattern spells them (`./a/*.rdb` gives `./a/x.rdb`).
 * Names starting with `.` only match a segment starting with `.`. Unreadable directories are skipped; the first
 * such error is returned to explain an empty result. Throws {@link GlobTooBroad} past the limits.
 */
export async function expandGlob(pattern: string, limits: GlobLimits = {}): Promise<{ matches: string[]; skipped: string | null }> {
  const maxEntries = limits.maxEntries ?? 200_000;
  const maxDepth = limits.maxDepth ?? 32;
  const absolute = pattern.startsWith('/');
  const segs = pattern.split('/').filter((s) => s !== '');
  const found = new Set<string>();
  let seen = 0;
  let skipped: string | null = null;
  const at = (base: string, name: string) => (base === '' ? name : base.endsWith('/') ? base + name : `${base}/${name}`);
  const list = async (base: string) => {
    const dir = base === '' ? '.' : base;
    try {
      const entries = await readdir(dir, { withFileTypes: true });
      seen += entries.length;
      if (seen > maxEntries) throw new GlobTooBroad(`the glob ${pattern} looks at more than ${maxEntries} directory entries; narrow it`);
      return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch (err) {
      if (err instanceof GlobTooBroad) throw err;
      const code = (err as { code?: string }).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') skipped ??= `cannot read directory ${dir}: ${describeIoError(err)}`;
      return [];
    }
  };
  const isDir = async (path: string) => (await stat(path).catch(() => null))?.isDirectory() ?? false;
  const walk = async (base: string, i: number, depth: number): Promise<void> => {
    if (i === segs.length) {
      if (base !== '' && (await lstat(base).catch(() => null))) found.add(base);
      return;
    }
    const seg = segs[i];
    if (seg === '**') {
      await walk(base, i + 1, depth); // zero directories
      if (depth >= maxDepth) return;
      for (const e of await list(base)) {
        if (e.name.startsWith('.') || !e.isDirectory()) continue; // hidden and symlinked directories are not entered
        await walk(at(base, e.name), i, depth + 1);
      }
      return;
    }
    if (!hasGlobMagic(seg)) {
      await walk(at(base, unescapeGlob(seg)), i + 1, depth);
      return;
    }
    const re = globSegmentRegExp(seg);
    const dotOk = seg.startsWith('.') || seg.startsWith('\\.');
    const last = i === segs.length - 1;
    for (const e of await list(base)) {
      if ((e.name.startsWith('.') && !dotOk) || !re.test(e.name)) continue;
      const path = at(base, e.name);
      if (last) found.add(path);
      else if (await isDir(path)) await walk(path, i + 1, depth);
    }
  };
  await walk(absolute ? '/' : '', 0, 0);
  return { matches: [...found].sort(), skipped };
}

// ---------------------------------------------------------------------------------------------------------------
// Inputs

/** What a tool does with a directory: check it as one input (an AOF directory), or check these paths in it. */
export type DirectoryPlan =
  | { kind: 'self' }
  | {
      kind: 'list';
      paths: string[];
      /** Why the directory has nothing to check, when `paths` and `unreadable` are empty. */
      nothing: string;
      /** Subdirectories that could not be read (what they hold cannot be checked). */
      unreadable?: { path: string; message: string }[];
    };

/** Why an input could not even be looked at: its verdict (`unreadable`, `no-match`, `nothing-to-check`) and why. */
export interface InputProblem {
  verdict: 'unreadable' | 'no-match' | 'nothing-to-check';
  message: string;
}

export interface CheckInput {
  path: string;
  problem?: InputProblem;
}

/** Why `path` cannot be opened, in a few words (a dangling symbolic link says where it points). */
export async function whyUnreadable(path: string, err: unknown): Promise<string> {
  const code = (err as { code?: string }).code;
  if (code === 'ENOENT') {
    const link = await lstat(path).catch(() => null);
    if (link?.isSymbolicLink()) {
      const to = await readlink(path).catch(() => '?');
      return `dangling symbolic link (to ${to}, which does not exist)`;
    }
  }
  if (code === 'ENOTDIR') return 'not a directory (a part of the path is a file)';
  return describeIoError(err);
}

/**
 * Expands the paths of the command line: a glob the shell left alone is expanded here (no match: a `no-match`
 * input), a directory goes through `planDirectory` (nothing in it: a `nothing-to-check` input), a path that
 * cannot be opened is an `unreadable` input. `batch` is true unless there was exactly one path and it was
 * neither expanded nor a directory that expands (then the tool prints its detailed single-file output).
 */
export async function expandInputs(args: readonly string[], planDirectory: (dir: string) => Promise<DirectoryPlan>): Promise<{ inputs: CheckInput[]; batch: boolean }> {
  const inputs: CheckInput[] = [];
  const seen = new Set<string>();
  let batch = args.length !== 1;
  const add = (input: CheckInput) => {
    if (input.problem || !seen.has(input.path)) inputs.push(input);
    seen.add(input.path);
  };
  const addPath = async (path: string): Promise<void> => {
    let st;
    try {
      st = await stat(path);
    } catch (err) {
      add({ path, problem: { verdict: 'unreadable', message: await whyUnreadable(path, err) } });
      return;
    }
    if (!st.isDirectory()) {
      add({ path });
      return;
    }
    let plan: DirectoryPlan;
    try {
      plan = await planDirectory(path);
    } catch (err) {
      add({ path, problem: { verdict: 'unreadable', message: `cannot read the directory: ${err instanceof GlobTooBroad ? err.message : describeIoError(err)}` } });
      batch = true;
      return;
    }
    if (plan.kind === 'self') {
      add({ path });
      return;
    }
    batch = true;
    const unreadable = plan.unreadable ?? [];
    if (plan.paths.length === 0 && unreadable.length === 0) add({ path, problem: { verdict: 'nothing-to-check', message: plan.nothing } });
    for (const p of plan.paths) add({ path: p });
    for (const u of unreadable) add({ path: u.path, problem: { verdict: 'unreadable', message: u.message } });
  };
  for (const arg of args) {
    const exists = (await lstat(arg).catch(() => null)) !== null;
    if (!exists && hasGlobMagic(arg)) {
      batch = true;
      let matches: string[];
      let skipped: string | null;
      try {
        ({ matches, skipped } = await expandGlob(arg));
      } catch (err) {
        add({ path: arg, problem: { verdict: 'unreadable', message: err instanceof Error ? err.message : String(err) } });
        continue;
      }
      if (matches.length === 0) add({ path: arg, problem: { verdict: 'no-match', message: `no file matches this glob${skipped ? ` (${skipped})` : ''}` } });
      for (const m of matches) await addPath(m);
      continue;
    }
    await addPath(arg);
  }
  return { inputs, batch };
}

// ---------------------------------------------------------------------------------------------------------------
// Checking and reporting

export type EntryStatus = 'valid' | 'damaged' | 'unreadable';

export interface EntryError {
  message: string;
  /** Where the damage is (in `file` when given, else in the input). */
  offset?: number;
  /** The file of a multi-part AOF the offset is in. */
  file?: string;
}

/** What a tool says about one input it could read. */
export interface Checked<R> {
  ok: boolean;
  /** `valid`, `empty`, or the kind of damage (`truncated`, `corrupt`, `checksum`...). */
  verdict: string;
  error: EntryError | null;
  /** The single-file report (what `--json` prints for one input). */
  report: R;
  /** A few words for the OK line (`RDB 10, 16 keys, 3.2 KiB`). */
  note: string;
  /** The detailed human report, for the JUnit failure text. */
  details: string[];
}

export interface BatchTool<R> {
  /** `rdb-tool check`: the JUnit classname and suite name. */
  name: string;
  planDirectory(dir: string): Promise<DirectoryPlan>;
  /** Checks one input; throws for I/O errors. */
  check(path: string): Promise<Checked<R>>;
}

export interface BatchResult {
  path: string;
  ok: boolean;
  status: EntryStatus;
  verdict: string;
  error: EntryError | null;
  durationMs: number;
  report?: unknown;
  note?: string;
  details?: string[];
}

const IO_ERRNO = /^E[A-Z0-9]+$/;

/**
 * An error of the checker as a result: a data error of our libraries is damage; their other errors (I/O, a file
 * that is not regular, a lock...) and a bare system error (errno) leave the file unreadable.
 */
export async function errorResult(path: string, err: unknown, durationMs: number): Promise<BatchResult> {
  const lib = isRedisPersistError(err) ? err : null;
  if (lib !== null && lib.kind === 'data') {
    const error: EntryError = { message: describeError(lib) };
    if (lib.offset !== undefined) error.offset = lib.offset;
    return { path, ok: false, status: 'damaged', verdict: lib.code, error, durationMs };
  }
  const errno = (err as { code?: unknown } | null)?.code;
  let message: string;
  if (lib !== null && lib.kind !== 'internal') message = describeError(lib);
  else if (lib === null && err instanceof Error && typeof errno === 'string' && IO_ERRNO.test(errno)) message = await whyUnreadable(path, err);
  else message = `internal error: ${err instanceof Error ? err.message : String(err)}`;
  return { path, ok: false, status: 'unreadable', verdict: 'unreadable', error: { message }, durationMs };
}

/** Checks one input, timing it; never throws. */
export async function checkInput<R>(tool: BatchTool<R>, input: CheckInput): Promise<BatchResult> {
  if (input.problem) {
    return { path: input.path, ok: false, status: 'unreadable', verdict: input.problem.verdict, error: { message: input.problem.message }, durationMs: 0 };
  }
  const t0 = performance.now();
  try {
    await stat(input.path); // a dangling link or a vanished file: said in a few words, not the checker's message
  } catch (err) {
    return { path: input.path, ok: false, status: 'unreadable', verdict: 'unreadable', error: { message: await whyUnreadable(input.path, err) }, durationMs: performance.now() - t0 };
  }
  try {
    const c = await tool.check(input.path);
    const durationMs = performance.now() - t0;
    return { path: input.path, ok: c.ok, status: c.ok ? 'valid' : 'damaged', verdict: c.verdict, error: c.error, durationMs, report: c.report, note: c.note, details: c.details };
  } catch (err) {
    return errorResult(input.path, err, performance.now() - t0);
  }
}

export interface Summary {
  files: number;
  valid: number;
  damaged: number;
  unreadable: number;
}

export function summarize(results: readonly BatchResult[]): Summary {
  const s: Summary = { files: results.length, valid: 0, damaged: 0, unreadable: 0 };
  for (const r of results) s[r.status]++;
  return s;
}

/** 0 all valid; 3 if any input is unreadable; else 1 if any is damaged. */
export function batchExitCode(results: readonly BatchResult[]): ExitCode {
  const s = summarize(results);
  if (s.unreadable > 0) return ExitCode.Io;
  if (s.damaged > 0) return ExitCode.Problem;
  return ExitCode.Ok;
}

/** The multi-input `--json` document (one, always; see the README for its shape). */
export function batchJson(results: readonly BatchResult[]) {
  const summary = summarize(results);
  return {
    ok: summary.valid === summary.files,
    summary,
    results: results.map((r) => ({
      path: r.path,
      ok: r.ok,
      status: r.status,
      verdict: r.verdict,
      error: r.error,
      durationMs: Math.round(r.durationMs * 1000) / 1000,
      ...(r.report !== undefined ? { report: r.report } : {}),
    })),
  };
}

/** Control bytes of a file name shown as \xNN, so that one input stays one line. */
export function printablePath(path: string): string {
  return path.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** The short reason of a problem: `truncated at offset 2000 of x.aof: ...`, or the message of an unreadable input. */
export function shortReason(r: BatchResult): string {
  if (!r.error) return '';
  if (r.status === 'unreadable' || r.verdict === 'empty') return r.error.message;
  const where = r.error.offset !== undefined ? ` at offset ${r.error.offset}` : '';
  const file = r.error.file ? ` of ${r.error.file}` : '';
  return `${r.verdict}${where}${file}: ${r.error.message}`;
}

/** The one line of a result: `OK          path  (note)`, `DAMAGED     path: reason`, `UNREADABLE  path: reason`. */
export function resultLine(o: Output, r: BatchResult): string {
  const path = printablePath(r.path);
  if (r.status === 'valid') return `${o.c.green('OK'.padEnd(10))}  ${path}${r.note ? `  (${r.note})` : ''}`;
  const label = r.status === 'damaged' ? 'DAMAGED' : 'UNREADABLE';
  return `${o.c.red(label.padEnd(10))}  ${path}: ${printablePath(shortReason(r))}`;
}

export function summaryLine(o: Output, results: readonly BatchResult[]): string {
  const s = summarize(results);
  const text = `${s.files} ${s.files === 1 ? 'file' : 'files'}: ${s.valid} valid, ${s.damaged} damaged, ${s.unreadable} unreadable`;
  return s.valid === s.files ? o.c.green(text) : o.c.red(text);
}

/** The JUnit report of the results: one testcase per input, `<failure>` for damage, `<error>` for unreadable. */
export function batchJunit(suite: string, results: readonly BatchResult[], now = new Date()): string {
  const cases: JunitCase[] = results.map((r) => {
    const c: JunitCase = { name: r.path, classname: suite, seconds: r.durationMs / 1000 };
    if (r.status === 'damaged') c.failure = { message: shortReason(r), type: r.verdict, text: (r.details ?? [shortReason(r)]).join('\n') };
    if (r.status === 'unreadable') c.error = { message: shortReason(r), type: r.verdict, text: shortReason(r) };
    return c;
  });
  return junitXml(suite, cases, now);
}

/**
 * Refuses a JUnit output that is one of the inputs before any work (FsioError `output-is-input`, exit 2);
 * an existing report is fine: it is replaced (the previous one kept as `.bak`, as fsio does for every output).
 */
export async function precheckJunit(path: string, inputs: readonly CheckInput[]): Promise<void> {
  await checkOutput(path, { force: true, inputs: inputs.filter((i) => !i.problem).map((i) => i.path) });
}

export async function writeJunit(path: string, suite: string, results: readonly BatchResult[]): Promise<void> {
  const inputs = results.filter((r) => r.status !== 'unreadable').map((r) => r.path);
  await writeFileAtomic(path, Buffer.from(batchJunit(suite, results), 'utf8'), { force: true, inputs });
}

/** An Output whose lines are kept (no colour): to reuse a tool's human report as text. */
export function captureOutput(): { o: Output; lines: string[] } {
  const lines: string[] = [];
  const plain = new Chalk({ level: 0 });
  const o: Output = {
    c: plain,
    e: plain,
    out: (line) => void lines.push(line),
    err: (line) => void lines.push(line),
    json: (value) => void lines.push(JSON.stringify(value)),
    write: async (text) => void lines.push(typeof text === 'string' ? text : Buffer.from(text).toString('utf8')),
  };
  return { o, lines };
}

/** Writes the JUnit report; on failure says why on stderr and returns false (the caller exits 3). */
export async function writeJunitOrSay(o: Output, path: string, suite: string, results: readonly BatchResult[]): Promise<boolean> {
  try {
    await writeJunit(path, suite, results);
    return true;
  } catch (err) {
    o.err(`${suite.split(' ')[0]}: cannot write the JUnit report: ${err instanceof Error ? err.message : String(err)}`);
    return false;
  }
}

export interface BatchOptions {
  json?: boolean;
  quiet?: boolean;
  junit?: string;
}

/**
 * Checks every input in order and reports: one line each and a summary (`--quiet`: the problems only, and the
 * summary when there are some), or one JSON document; writes the JUnit report; sets the exit code.
 */
export async function runBatch<R>(o: Output, tool: BatchTool<R>, inputs: readonly CheckInput[], opts: BatchOptions): Promise<void> {
  if (opts.junit) await precheckJunit(opts.junit, inputs);
  const results: BatchResult[] = [];
  for (const input of inputs) {
    const r = await checkInput(tool, input);
    results.push(r);
    if (!opts.json && !(opts.quiet && r.ok)) o.out(resultLine(o, r));
  }
  if (opts.json) o.json(batchJson(results));
  else if (!opts.quiet || results.some((r) => !r.ok)) o.out(summaryLine(o, results));
  let code = batchExitCode(results);
  if (opts.junit && !(await writeJunitOrSay(o, opts.junit, tool.name, results))) code = ExitCode.Io;
  process.exitCode = code;
}

/**
 * One plain path: the tool's detailed report as before this module existed (`print`), or its single report with
 * `--json`, or with `--quiet` only the line of a problem. An input that cannot be read throws, as it always did
 * (exit 3, one line on stderr), after the JUnit report (one `<error>`) is written.
 */
export async function runSingle<R>(o: Output, tool: BatchTool<R>, path: string, opts: BatchOptions, print: (checked: Checked<R>) => void): Promise<void> {
  if (opts.junit) await precheckJunit(opts.junit, [{ path }]);
  const t0 = performance.now();
  let checked: Checked<R>;
  try {
    checked = await tool.check(path);
  } catch (err) {
    if (opts.junit) await writeJunitOrSay(o, opts.junit, tool.name, [await errorResult(path, err, performance.now() - t0)]);
    throw err;
  }
  const durationMs = performance.now() - t0;
  const result: BatchResult = { path, ok: checked.ok, status: checked.ok ? 'valid' : 'damaged', verdict: checked.verdict, error: checked.error, durationMs, note: checked.note, details: checked.details };
  if (opts.json) o.json(checked.report);
  else if (opts.quiet) {
    if (!checked.ok) o.out(resultLine(o, result));
  } else print(checked);
  let code: ExitCode = checked.ok ? ExitCode.Ok : ExitCode.Problem;
  if (opts.junit && !(await writeJunitOrSay(o, opts.junit, tool.name, [result]))) code = ExitCode.Io;
  process.exitCode = code;
}

/** A path as a shell word (quoted when it needs to be), for the commands we suggest. */
export function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The regular files and subdirectories of `dir` (symbolic links followed; dangling ones listed as files), sorted. */
export async function listDirectory(dir: string): Promise<{ name: string; path: string; dir: boolean; link: boolean }[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: { name: string; path: string; dir: boolean; link: boolean }[] = [];
  for (const e of entries) {
    const path = join(dir, e.name);
    let isDir = e.isDirectory();
    if (e.isSymbolicLink()) isDir = (await stat(path).catch(() => null))?.isDirectory() ?? false;
    out.push({ name: e.name, path, dir: isDir, link: e.isSymbolicLink() });
  }
  return out;
}
