// `aof-tool filter`: an AOF holding only the commands a key filter keeps, written as one RESP file (temp file,
// fsync, rename; an existing output only with `force`). The kept commands are re-encoded in canonical RESP, a SELECT
// goes before the first command and wherever the database changes, MULTI/EXEC stay around the kept commands of a
// transaction, and the `#TS:<unix>` annotations (aof-timestamp-enabled) are kept: `#TS:` is written before a kept
// command whenever its timestamp (that of the last annotation before it in the input) differs from the last one
// written. Other `#` lines are not kept. An AOF with an RDB preamble or base is refused (its keys are not commands:
// filter them with rdb-tool to-aof, or rewrite the AOF with `aof-tool rewrite --base aof` first).
import { AtomicFile, checkOutput } from '@redis-persist/fsio';
import { AofError } from './errors.js';
import { AofCommandFilter, type AofFilterOptions } from './filter.js';
import { resolveAofInput } from './input.js';
import { readAofBatches, type AofCommand } from './reader.js';

/** Options of {@link filterAof} (`aof-tool filter`): the filter, replacing an existing output, progress. */
export interface FilterAofOptions extends AofFilterOptions {
  /** Replace an existing output (kept as `<output>.bak` first). */
  force?: boolean;
  /** Called now and then with the commands read so far. */
  onProgress?: (progress: { commands: number }) => void;
  /**
   * Stops the filter: checked once per chunk read. When aborted the call rejects with `signal.reason` (an
   * `AbortError` DOMException by default): the input is closed, the temp file removed, no output written.
   */
  signal?: AbortSignal;
}

/** What {@link filterAof} wrote: commands read and written, kept, dropped and cut down. */
export interface FilterAofResult {
  output: string;
  commandsRead: number;
  /** Commands written (SELECTs and MULTI/EXEC included). */
  commandsWritten: number;
  kept: number;
  dropped: number;
  /** Commands cut down to the keys that pass. */
  cut: number;
  /** Mixed commands kept whole or dropped by `partial`. */
  partialKept: number;
  partialDropped: number;
  /** `#TS:` annotations written. */
  timestamps: number;
  bytes: number;
  replacedBackup: string | null;
}

const CRLF = '\r\n';

function encode(args: readonly Uint8Array[], parts: Uint8Array[]): number {
  let n = 0;
  const head = Buffer.from(`*${args.length}${CRLF}`, 'latin1');
  parts.push(head);
  n += head.length;
  for (const a of args) {
    const h = Buffer.from(`$${a.length}${CRLF}`, 'latin1');
    parts.push(h, a, Buffer.from(CRLF, 'latin1'));
    n += h.length + a.length + 2;
  }
  return n;
}

/** Writes to `output` the commands of the AOF `input` that the filter keeps (see the module comment). */
export async function filterAof(input: string, output: string, options: FilterAofOptions): Promise<FilterAofResult> {
  const cf = new AofCommandFilter(options);
  const target = await resolveAofInput(input);
  const policy = { force: options.force, inputs: [input, target.layout === 'single' ? target.path : target.dir] };
  await checkOutput(output, policy);
  const out = await AtomicFile.create(output, policy);
  const res: FilterAofResult = { output, commandsRead: 0, commandsWritten: 0, kept: 0, dropped: 0, cut: 0, partialKept: 0, partialDropped: 0, timestamps: 0, bytes: 0, replacedBackup: null };
  let db = -1;
  let ts: number | undefined;
  let parts: Uint8Array[] = [];
  let pending = 0;
  const write = (c: AofCommand) => {
    if (c.timestamp !== undefined && c.timestamp !== ts) {
      ts = c.timestamp;
      const t = Buffer.from(`#TS:${ts}${CRLF}`, 'latin1');
      parts.push(t);
      pending += t.length;
      res.timestamps++;
    }
    if (c.db !== db) {
      db = c.db;
      pending += encode([Buffer.from('SELECT'), Buffer.from(String(db))], parts);
      res.commandsWritten++;
    }
    pending += encode(c.args, parts);
    res.commandsWritten++;
  };
  const flush = async () => {
    if (parts.length === 0) return;
    const chunk = Buffer.concat(parts, pending);
    parts = [];
    pending = 0;
    await out.write(chunk);
  };
  try {
    const onRdbPart = (p: { file: string }) => {
      throw new AofError('unsupported', 'holds an RDB part (preamble or base) whose keys are not commands: filter the keys with rdb-tool to-aof, or rewrite the AOF with aof-tool rewrite --base aof first', { file: p.file, kind: 'usage' });
    };
    for await (const batch of readAofBatches(input, { onRdbPart, signal: options.signal })) {
      res.commandsRead += batch.length;
      for (const c of cf.push(batch)) write(c);
      if (pending >= 1 << 20) await flush();
      options.onProgress?.({ commands: res.commandsRead });
    }
    // (a damaged input throws above: nothing is written, as aof-tool fix should come first)
    await flush();
    options.signal?.throwIfAborted();
    await out.commit();
  } catch (err) {
    await out.abort();
    throw err;
  }
  const c = cf.counts;
  return { ...res, kept: c.kept, dropped: c.dropped, cut: c.cut, partialKept: c.partialKept, partialDropped: c.partialDropped, bytes: out.bytesWritten, replacedBackup: out.replacedBackup };
}
