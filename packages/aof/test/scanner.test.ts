import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AofError, AofScanner, parseAof, type AofScanEvent } from '@redis-persist/aof';

type Rec = { kind: 'cmd'; args: Uint8Array[] } | { kind: 'ts'; ts: number } | { kind: 'tx'; cmds: Uint8Array[][] };

const enc = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

function encodeCommand(args: Uint8Array[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) parts.push(Buffer.from(`$${a.length}\r\n`), Buffer.from(a), Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

/** Bytes of an AOF and the offsets where a repair may cut (record boundaries outside transactions). */
function build(recs: Rec[]): { bytes: Buffer; boundaries: number[]; annotations: [number, number][]; commands: number; lines: number } {
  const parts: Buffer[] = [];
  const boundaries = [0];
  const annotations: [number, number][] = [];
  let off = 0;
  let commands = 0;
  let lines = 1;
  const push = (b: Buffer) => {
    parts.push(b);
    off += b.length;
  };
  for (const r of recs) {
    if (r.kind === 'ts') {
      annotations.push([off, off + `#TS:${r.ts}\r\n`.length]);
      push(Buffer.from(`#TS:${r.ts}\r\n`));
    }
    else if (r.kind === 'cmd') {
      push(encodeCommand(r.args));
      commands++;
      lines += 1 + 2 * r.args.length;
    } else {
      for (const c of [[enc('MULTI')], ...r.cmds, [enc('EXEC')]]) {
        push(encodeCommand(c));
        commands++;
        lines += 1 + 2 * c.length;
      }
    }
    boundaries.push(off);
  }
  return { bytes: Buffer.concat(parts), boundaries, annotations, commands, lines };
}

const arg = fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.constantFrom('SET', 'multiplex', 'k', '', 'exec2').map(enc));
const name = fc.constantFrom('SET', 'DEL', 'sadd', 'HSET', 'xadd', 'FLUSHALL').map(enc);
const command = fc.tuple(name, fc.array(arg, { maxLength: 5 })).map(([n, rest]) => [n, ...rest]);
const record: fc.Arbitrary<Rec> = fc.oneof(
  { weight: 6, arbitrary: command.map((args) => ({ kind: 'cmd' as const, args })) },
  { weight: 1, arbitrary: fc.integer({ min: 1_600_000_000, max: 1_900_000_000 }).map((ts) => ({ kind: 'ts' as const, ts })) },
  { weight: 1, arbitrary: fc.array(command, { maxLength: 4 }).map((cmds) => ({ kind: 'tx' as const, cmds })) },
);

/** Scans `bytes` cut at `cuts`: push a chunk, pull its records with next() until undefined; end() and pull. */
function scanChunks(bytes: Uint8Array, cuts: number[]): { scanner: AofScanner; events: AofScanEvent[] } {
  const scanner = new AofScanner({ collectArgs: true });
  const events: AofScanEvent[] = [];
  let prev = 0;
  for (const c of [...cuts, bytes.length]) {
    if (c < prev) continue;
    scanner.push(bytes.subarray(prev, c));
    for (let ev = scanner.next(); ev !== undefined; ev = scanner.next()) events.push(ev);
    prev = c;
  }
  scanner.end();
  for (let ev = scanner.next(); ev !== undefined; ev = scanner.next()) events.push(ev);
  return { scanner, events };
}

const plain = (events: AofScanEvent[]) =>
  events.map((e) => (e.type === 'command' ? { o: e.offset, e: e.end, a: e.args!.map((x) => Buffer.from(x).toString('hex')) } : { o: e.offset, t: Buffer.from(e.text).toString() }));

describe('AofScanner', () => {
  it('gives the same records at every chunking, byte by byte included', () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 8 }), (recs, rawCuts) => {
        const { bytes, commands, lines } = build(recs);
        const whole = scanChunks(bytes, []);
        expect(whole.scanner.failure).toBeNull();
        expect(whole.scanner.okUpTo).toBe(bytes.length);
        expect(whole.scanner.commands).toBe(commands);
        expect(whole.scanner.line).toBe(lines);
        const cuts = rawCuts.map((c) => (bytes.length ? c % bytes.length : 0)).sort((a, b) => a - b);
        expect(plain(scanChunks(bytes, cuts).events)).toEqual(plain(whole.events));
        const bytewise = scanChunks(bytes, Array.from({ length: bytes.length }, (_, i) => i));
        expect(plain(bytewise.events)).toEqual(plain(whole.events));
        expect(bytewise.scanner.line).toBe(lines);
        // a cut record tail comes out of next() after end() the same however the input was chunked
        const cut = bytes.subarray(0, Math.max(0, bytes.length - 1));
        expect(plain(scanChunks(cut, cuts.filter((c) => c <= cut.length)).events)).toEqual(plain(scanChunks(cut, []).events));
      }),
      { numRuns: 150 },
    );
  });

  it('reports every strict prefix as valid at a record boundary, else cut back to the last boundary', () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 8 }), fc.nat(), (recs, pick) => {
        const { bytes, boundaries, annotations } = build(recs);
        const len = pick % (bytes.length + 1);
        const { scanner } = scanChunks(bytes.subarray(0, len), []);
        const lastBoundary = Math.max(...boundaries.filter((b) => b <= len));
        // a partial annotation line at the end is accepted, as redis-check-aof does
        const inAnnotation = annotations.some(([a, b]) => len > a && len < b);
        if (boundaries.includes(len) || inAnnotation) {
          expect(scanner.failure).toBeNull();
          expect(scanner.okUpTo).toBe(len);
        } else {
          expect(scanner.failure?.kind).toBe('truncated');
          expect(scanner.okUpTo).toBe(lastBoundary);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on random bytes and always stops with a verdict', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat({ max: 300 }), (bytes, cut) => {
        const { scanner } = scanChunks(bytes, [Math.min(cut, bytes.length)]);
        expect(scanner.done).toBe(true);
        expect(scanner.okUpTo).toBeLessThanOrEqual(bytes.length);
        if (scanner.okUpTo < bytes.length) expect(scanner.failure).not.toBeNull();
        try {
          parseAof(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(AofError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('does not allocate from a huge claimed length', () => {
    const bytes = enc('*2\r\n$3\r\nSET\r\n$9223372036854775000\r\nabc');
    const scanner = new AofScanner();
    scanner.push(bytes);
    scanner.end();
    expect(scanner.failure?.kind).toBe('truncated');
    expect(scanner.failure?.message).toBe('Expected to read 9223372036854775002 bytes, got 3 bytes');
    // collecting arguments (the reader) refuses a length over the limit before reading it
    expect(() => parseAof(bytes)).toThrow(/exceeds the limit/);
    const negative = scanChunks(enc('*1\r\n$-5\r\n'), []).scanner;
    expect(negative.failure?.message).toBe('Expected to read string of -5 bytes, which is not in the suitable range');
  });

  it('reads lengths the lax way redis-check-aof does (strtol), and MULTI names as C strings', () => {
    const lax = scanChunks(enc('*01\r\n$+3\r\nSET\r\n'), []).scanner;
    expect(lax.failure).toBeNull();
    const nul = scanChunks(Buffer.concat([encodeCommand([enc('multi\0x')]), encodeCommand([enc('MULTI')])]), []).scanner;
    expect(nul.failure?.message).toMatch(/^Unexpected MULTI/);
  });
});

describe('parseAof', () => {
  it('tracks SELECT and #TS annotations', () => {
    const bytes = Buffer.concat([
      Buffer.from('#TS:1700000000\r\n'),
      encodeCommand([enc('SET'), enc('a'), enc('1')]),
      encodeCommand([enc('select'), enc('3')]),
      Buffer.from('#TS:1700000005\r\n'),
      encodeCommand([enc('DEL'), enc('a')]),
    ]);
    const cmds = parseAof(bytes);
    expect(cmds.map((c) => [c.db, Buffer.from(c.args[0]).toString(), c.timestamp])).toEqual([
      [0, 'SET', 1700000000],
      [3, 'select', 1700000000],
      [3, 'DEL', 1700000005],
    ]);
    expect(cmds[2].offset).toBe(bytes.length - encodeCommand([enc('DEL'), enc('a')]).length);
  });

  it('names the file and offset of damage', () => {
    const bytes = Buffer.concat([encodeCommand([enc('SET'), enc('a'), enc('1')]), Buffer.from('*2\r\n$3\r\nDEL\r\n$1\r')]);
    expect(() => parseAof(bytes, { file: 'x.aof' })).toThrow(/x\.aof: offset 40: .*the last complete command ends at offset 27/);
  });
});
