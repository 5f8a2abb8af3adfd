// exportRdb in process: rows against rdbMemoryRecords, Parquet in many small row groups read back with DuckDB (the
// row groups really are written as they fill), CSV quoting, and the key text rule.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '@redis-persist/testkit';
import { EXPORT_COLUMNS, exportKeyText, exportRdb, rdbMemoryRecords, type ExportFormat, type KeyMemory } from '@redis-persist/analysis';

const fixture = join(repoRoot()!, 'fixtures/rdb/all-types.rdb');
const tmp = mkdtempSync(join(tmpdir(), 'analysis-export-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function exportTo(format: ExportFormat, rowGroupSize?: number): Promise<{ path: string; chunks: number; rows: number }> {
  const parts: Uint8Array[] = [];
  const r = await exportRdb(fixture, { write: async (c) => void parts.push(c) }, { format, rowGroupSize, source: 'all-types.rdb' });
  const path = join(tmp, `t${parts.length}-${rowGroupSize ?? 0}.${format}`);
  writeFileSync(path, Buffer.concat(parts));
  expect(r.written).toBe(parts.reduce((s, p) => s + p.length, 0));
  return { path, chunks: parts.length, rows: r.rows };
}

describe('exportRdb', () => {
  it('Parquet in row groups of 3: every key once, with the memory estimate\'s values, one write per row group', async () => {
    const keys: KeyMemory[] = [];
    for await (const r of rdbMemoryRecords(fixture)) if (r.kind === 'key') keys.push(r);
    const { path, chunks, rows } = await exportTo('parquet', 3);
    expect(rows).toBe(keys.length);
    expect(chunks).toBeGreaterThanOrEqual(Math.ceil(keys.length / 3));
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const groups = (await db.runAndReadAll(`SELECT count(DISTINCT row_group_id)::INTEGER AS n FROM parquet_metadata('${path}')`)).getRowObjectsJson();
    expect(groups).toEqual([{ n: Math.ceil(keys.length / 3) }]);
    const got = (
      await db.runAndReadAll(`SELECT ${EXPORT_COLUMNS.map((c) => (c === 'expiry' ? 'epoch_ms(expiry)::BIGINT AS expiry' : c)).join(', ')} FROM '${path}'`)
    ).getRowObjectsJson();
    expect(got).toEqual(
      keys.map((k) => ({
        source: 'all-types.rdb',
        db: k.db,
        key: exportKeyText(k.key),
        type: k.type,
        encoding: k.encoding,
        expiry: k.expireAt === null ? null : String(k.expireAt),
        elements: String(k.elements),
        bytes: String(k.bytes),
        memory: String(k.memory),
      })),
    );
    for (const k of keys) expect(k.bytes).toBeGreaterThan(k.key.length);
  });

  it('CSV: a header, a row per key, quoted where needed', async () => {
    const { path, rows } = await exportTo('csv');
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe(EXPORT_COLUMNS.join(','));
    expect(lines.length).toBe(rows + 1);
  });

  it('key text: UTF-8 as is, anything else (and text starting with base64:) as base64:', () => {
    const enc = new TextEncoder();
    expect(exportKeyText(enc.encode('user:1'))).toBe('user:1');
    expect(exportKeyText(enc.encode('\ufeffbom'))).toBe('\ufeffbom');
    expect(exportKeyText(new Uint8Array([0xff, 0x00]))).toBe('base64:/wA=');
    expect(exportKeyText(enc.encode('base64:x'))).toBe('base64:' + Buffer.from('base64:x').toString('base64'));
  });
});
