// The parser's options for damaged files: `salvage` (skip a key whose value is corrupt inside while its lengths still
// say where it ends, and go on), `verifyChecksum: false` (a CRC mismatch is no error), `onDamage` (end the records
// cleanly at the damage and hand over the error).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Crc64 } from '@redis-persist/bytes';
import { DONE, NEED_MORE, RdbError, RdbParser, readRdb, type ReadRdbOptions, type RdbKeyBeingRead, type RdbRecord, type RdbSkip } from '@redis-persist/rdb';
import { repoRoot } from '@redis-persist/testkit';

const fixtures = join(repoRoot()!, 'fixtures', 'rdb');
const load = (n: string) => new Uint8Array(readFileSync(join(fixtures, `${n}.rdb`)));

interface Parsed {
  records: RdbRecord[];
  skips: RdbSkip[];
  error?: RdbError;
}

/** The sync parser fed `size` bytes at a time, with `salvage` and every skip collected. */
function parse(data: Uint8Array, options: ReadRdbOptions = {}, size = data.length): Parsed {
  const skips: RdbSkip[] = [];
  const p = new RdbParser({ salvage: true, onSkip: (s) => skips.push(s), ...options });
  const records: RdbRecord[] = [];
  let at = 0;
  try {
    for (;;) {
      const r = p.next();
      if (r === DONE) break;
      if (r === NEED_MORE) {
        if (at >= data.length) p.end();
        else {
          p.push(data.subarray(at, at + size));
          at += size;
        }
        continue;
      }
      records.push(r);
    }
  } catch (err) {
    if (!(err instanceof RdbError)) throw err;
    return { records, skips, error: err };
  }
  return { records, skips };
}

type KeyRec = Extract<RdbRecord, { kind: 'key' }>;
const keyName = (r: { key: Uint8Array }) => Buffer.from(r.key).toString('latin1');
const keys = (records: RdbRecord[]) => records.filter((r): r is KeyRec => r.kind === 'key');
/** A key record without what a damaged neighbour may not change (nothing: offsets stay, as the framing does). */
const view = (r: KeyRec) => ({ db: r.db, key: keyName(r), offset: r.offset, size: r.size, value: JSON.stringify(r.value, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v)) });

/** Where the packed blob (listpack / intset, stored without LZF) of a key ends its record: [from, end). */
function packedPayload(data: Uint8Array, r: KeyRec): [number, number] | null {
  const end = r.offset + r.size;
  const b = Buffer.from(data.buffer, data.byteOffset, data.length);
  for (let len = 7; len <= Math.min(r.size - 3, 4000); len++) {
    const at = end - len;
    if (r.encoding === 'listpack' && b.readUInt32LE(at) === len && b[end - 1] === 0xff) return [at, end];
    if (r.encoding === 'intset') {
      const enc = b.readUInt32LE(at);
      if ((enc === 2 || enc === 4 || enc === 8) && 8 + enc * b.readUInt32LE(at + 4) === len) return [at, end];
    }
  }
  return null;
}

describe('salvage: a key corrupt inside its intact framing is skipped, the rest parsed', () => {
  const data = load('all-types');
  const whole = parse(data, { salvage: false });
  const originals = keys(whole.records);

  it('a bad intset encoding: exactly that key is skipped (range, key, type, reason), at every chunking', () => {
    const victim = originals.find((r) => keyName(r) === 'set:int')!;
    const bad = data.slice();
    bad[victim.offset + 1 + 8 + 1] = 0xfb; // type byte, key "set:int", blob length, then the intset's encoding
    for (const size of [bad.length, 1, 3, 7, 64, 1000]) {
      const got = parse(bad, { verifyChecksum: false }, size);
      expect(got.error).toBeUndefined();
      expect(got.skips).toHaveLength(1);
      const s = got.skips[0]!;
      expect({ start: s.start, end: s.end, key: keyName(s), typeName: s.typeName, partial: s.partial, code: s.error.code }).toEqual({
        start: victim.offset,
        end: victim.offset + victim.size,
        key: 'set:int',
        typeName: 'set-intset',
        partial: false,
        code: 'corrupt',
      });
      expect(s.error.message).toMatch(/intset element size 251/);
      expect(keys(got.records).map(view)).toEqual(originals.filter((r) => r !== victim).map(view));
      // the checksum is the file's, each byte counted once although the skipped key was read twice
      const end = got.records.at(-1)!;
      expect(end).toMatchObject({ kind: 'end', checksum: 'mismatch' });
      const computed = new Crc64().update(bad, 0, bad.length - 8).value().toString(16).padStart(16, '0');
      expect(end.kind === 'end' && end.computed).toBe(computed);
    }
    // without verifyChecksum: false, everything is read and then the checksum fails
    const strict = parse(bad);
    expect(strict.skips).toHaveLength(1);
    expect(strict.error?.code).toBe('checksum');
    expect(keys(strict.records)).toHaveLength(originals.length - 1);
  });

  it('every byte flipped inside a packed payload (listpack, intset): that key is skipped or decodes, every other record is intact', () => {
    let skipped = 0;
    let payloads = 0;
    for (const victim of originals) {
      const range = packedPayload(data, victim);
      if (!range) continue;
      payloads++;
      for (let at = range[0]; at < range[1]; at++) {
        for (const flip of [0xff, 0x01, 0x80]) {
          const bad = data.slice();
          bad[at] ^= flip;
          const got = parse(bad, { verifyChecksum: false });
          expect(got.error, `${keyName(victim)} byte ${at} ^ ${flip}`).toBeUndefined();
          const others = keys(got.records).filter((r) => r.offset !== victim.offset);
          expect(others.map(view)).toEqual(originals.filter((r) => r !== victim).map(view));
          if (got.skips.length > 0) {
            skipped++;
            expect(got.skips).toHaveLength(1);
            expect(got.skips[0]).toMatchObject({ start: victim.offset, end: victim.offset + victim.size });
            expect(keyName(got.skips[0]!)).toBe(keyName(victim));
          }
        }
      }
    }
    expect(payloads).toBeGreaterThanOrEqual(3);
    expect(skipped).toBeGreaterThan(50);
  });

  it('any single flipped byte: the records before the damaged one are intact, errors are RdbErrors, skips lie inside the file', () => {
    for (let at = 9; at < data.length; at += 2) {
      const bad = data.slice();
      bad[at] ^= at % 4 === 1 ? 0x5a : 0xff;
      const got = parse(bad, { verifyChecksum: false }, 97);
      const before = originals.filter((r) => r.offset + r.size <= at);
      expect(keys(got.records).slice(0, before.length).map(view)).toEqual(before.map(view));
      for (const s of got.skips) {
        expect(s.start).toBeGreaterThanOrEqual(9);
        expect(s.end).toBeLessThanOrEqual(bad.length);
        expect(s.end).toBeGreaterThan(s.start);
      }
    }
  });

  it('an LZF-compressed quicklist node that no longer decompresses: the list is skipped', () => {
    const victim = originals.find((r) => keyName(r) === 'l:big')!;
    let found = 0;
    for (let at = victim.offset + 12; at < victim.offset + victim.size; at++) {
      const bad = data.slice();
      bad[at] ^= 0xff;
      const got = parse(bad, { verifyChecksum: false });
      if (got.error) continue; // a length inside the LZF header: the framing is gone
      expect(keys(got.records).filter((r) => r !== undefined && r.offset !== victim.offset).map(view)).toEqual(originals.filter((r) => r !== victim).map(view));
      if (got.skips.some((s) => /LZF/.test(s.error.message))) {
        found++;
        expect(got.skips[0]).toMatchObject({ start: victim.offset, end: victim.offset + victim.size, typeName: 'quicklist-v2' });
      }
    }
    expect(found).toBeGreaterThan(0);
  });

  it('a key handed out in pieces (chunkElements) and then found damaged: skipped with partial, no last piece', () => {
    const mn = load('many-nodes');
    const list = keys(parse(mn, { salvage: false }).records).find((r) => keyName(r) === 'l:big')!;
    // the last quicklist node's listpack terminator
    const bad = mn.slice();
    bad[list.offset + list.size - 1] ^= 0xff;
    const got = parse(bad, { values: true, chunkElements: 5, verifyChecksum: false });
    expect(got.error).toBeUndefined();
    expect(got.skips).toHaveLength(1);
    expect(got.skips[0]).toMatchObject({ start: list.offset, end: list.offset + list.size, partial: true });
    const pieces = keys(got.records).filter((r) => keyName(r) === 'l:big');
    expect(pieces.length).toBeGreaterThan(0);
    expect(pieces.every((p) => p.partial === true)).toBe(true);
    expect(keys(got.records).some((r) => keyName(r) === 'other:db')).toBe(true);
  });

  it('framing lost (a length made huge) or a truncated file: the error is thrown as without salvage', () => {
    const victim = originals.find((r) => keyName(r) === 'set:big')!;
    const bad = data.slice();
    bad[victim.offset + 1 + 8] = 0x80; // the set's member count becomes a 32-bit length
    const got = parse(bad, { verifyChecksum: false });
    const plain = parse(bad, { salvage: false, verifyChecksum: false });
    expect(got.error).toBeDefined();
    expect(got.error!.message).toBe(plain.error!.message);
    expect(got.skips).toEqual([]);

    const cut = parse(data.subarray(0, victim.offset + 40));
    expect(cut.error?.code).toBe('truncated');
    expect(cut.skips).toEqual([]);
  });

  it('a damaged key bigger than maxSalvageBytes is not kept: the error is thrown', () => {
    const victim = originals.find((r) => keyName(r) === 'set:int')!;
    const bad = data.slice();
    bad[victim.offset + 1 + 8 + 1] = 0xfb;
    const tiny = parse(bad, { verifyChecksum: false, limits: { maxSalvageBytes: 8 } }, 16);
    expect(tiny.error?.message).toMatch(/intset element size 251/);
    expect(tiny.skips).toEqual([]);
  });

  it('filtered-out keys are walked, not salvaged; a skip is reported for wanted keys only', () => {
    const victim = originals.find((r) => keyName(r) === 'set:int')!;
    const bad = data.slice();
    bad[victim.offset + 1 + 8 + 1] = 0xfb;
    const got = parse(bad, { verifyChecksum: false, filter: { types: ['string'] } });
    expect(got.error).toBeUndefined();
    expect(got.skips).toEqual([]);
    expect(keys(got.records).every((r) => r.type === 'string')).toBe(true);
  });
});

describe('verifyChecksum: false', () => {
  it('a wrong CRC64 gives an end record saying mismatch with both values; a right one ok', () => {
    const data = load('all-types');
    const bad = data.slice();
    bad[bad.length - 2] ^= 0x11;
    const got = parse(bad, { salvage: false, verifyChecksum: false });
    expect(got.error).toBeUndefined();
    const end = got.records.at(-1)!;
    expect(end.kind).toBe('end');
    if (end.kind !== 'end') return;
    expect(end.checksum).toBe('mismatch');
    expect(end.stored).not.toBe(end.computed);
    expect(parse(data, { salvage: false, verifyChecksum: false }).records.at(-1)).toMatchObject({ kind: 'end', checksum: 'ok' });
    expect(parse(bad, { salvage: false }).error?.code).toBe('checksum');
  });
});

describe('onDamage: readRdb ends cleanly at the damage', () => {
  it('the records before it, then the error and the key being read', async () => {
    const data = load('all-types');
    const whole = keys(parse(data, { salvage: false }).records);
    const zbig = whole.find((r) => keyName(r) === 'z:big')!;
    const cut = data.subarray(0, zbig.offset + 100);
    let damage: { error: RdbError; reading: RdbKeyBeingRead | null } | null = null;
    const got: RdbRecord[] = [];
    for await (const r of readRdb([cut], { onDamage: (error, reading) => (damage = { error, reading }) })) got.push(r);
    expect(keys(got).map(keyName)).toEqual(whole.filter((r) => r.offset + r.size <= zbig.offset).map(keyName));
    const d = damage as { error: RdbError; reading: RdbKeyBeingRead | null } | null;
    expect(d?.error.code).toBe('truncated');
    expect(d?.reading && { key: keyName(d.reading), typeName: d.reading.typeName, offset: d.reading.offset }).toEqual({ key: 'z:big', typeName: 'zset-v2', offset: zbig.offset });
    // I/O errors are still thrown
    await expect(async () => {
      for await (const r of readRdb('/nonexistent/x.rdb', { onDamage: () => undefined })) void r;
    }).rejects.toThrow(/cannot open/);
  });
});
