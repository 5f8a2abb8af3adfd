import { test } from 'vitest';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { checkRdb } from '@redis-persist/rdb';
import { redisCheckRdb } from './helpers.js';
test('explore', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'x-'));
  for (const name of ['tiny-limits','many-nodes','all-types']) { const data = Buffer.from(readFileSync(`/work/main/fixtures/rdb/${name}.rdb`)); data.fill(0, data.length - 8);
  let seed = 55555;
  const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
  for (let k = 0; k < 1500; k++) {
    let b = Buffer.from(data);
    const at = 9 + (rnd() % (b.length - 17)); const v = rnd() % 256; const op = rnd() % 3;
    if (op === 0) { if (b[at] === v) continue; b[at] = v; } else if (op === 1) b = Buffer.concat([b.subarray(0, at), Buffer.from([v]), b.subarray(at)]); else b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
    const p = join(dir, `m${k}.rdb`); writeFileSync(p, b);
    const [t, o] = await Promise.all([redisCheckRdb(p), checkRdb(p)]);
    if (t.ok !== o.ok) console.log(`${name} op${op} byte ${at} ${data[at].toString(16)}->${v.toString(16)}: redis ${t.ok ? 'OK' : t.output.split('\n').filter((l) => /ERROR|offset \d+\] (?!AUX|Sel|Check)/.test(l)).slice(0,3).join(' | ')}; ours ${o.ok ? 'OK' : o.error!.message.replace(/^.*?offset/, 'offset')}`);
  }
  }
}, 600000);
