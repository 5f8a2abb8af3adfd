// The --html page of rdb-tool report in a real browser: Debian's chromium, headless, driven by puppeteer-core, with
// every request but the page itself failing the test (the page must be self-contained). No console error, no page
// error; the numbers in the page's tables are those of the --json report of the same run; the script's sorting
// works; a screenshot goes to test-artifacts/report.png (git-ignored). Without chromium the test skips with a
// message, except in CI (CI=true), where .ci/run installs it and its absence fails.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer from 'puppeteer-core';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '@redis-persist/testkit';

const root = repoRoot()!;
const bin = join(root, 'packages/cli/bin/rdb-tool.js');
const built = existsSync(join(root, 'packages/cli/dist/rdb-tool/report.js'));
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(chromium);
const inCi = process.env.CI === 'true';
const tmp = mkdtempSync(join(tmpdir(), 'reporthtml-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

if (!haveChromium && !inCi) console.warn(`report-html.live.test.ts: skipped, no chromium at ${chromium} (apt-get install chromium, or set CHROMIUM_PATH)`);

describe('rdb-tool report --html in chromium', () => {
  it.runIf(inCi)('chromium is installed in CI', () => {
    expect(haveChromium, `${chromium} is missing: .ci/run installs it`).toBe(true);
  });

  it.skipIf(!built || !haveChromium)('self-contained, no errors, tables equal the --json report', async () => {
    const html = join(tmp, 'report.html');
    const files = [join(root, 'fixtures/rdb/all-types.rdb'), join(root, 'fixtures/rdb/many-nodes.rdb'), join(root, 'fixtures/rdb/tiny-limits.rdb')];
    const r = spawnSync(process.execPath, [bin, 'report', '--json', '--max-prefixes', '5', '--html', html, ...files], { env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 << 20 });
    expect(r.status, r.stderr.toString()).toBe(0);
    const report = JSON.parse(r.stdout.toString());
    expect(report.prefixes.mode).toBe('heavy-hitters');

    const browser = await puppeteer.launch({
      executablePath: chromium,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
    });
    try {
      const page = await browser.newPage();
      const url = pathToFileURL(html).href;
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${String(e)}`));
      await page.setRequestInterception(true);
      page.on('request', (req) => {
        if (req.url() === url) void req.continue();
        else {
          problems.push(`request: ${req.url()}`);
          void req.abort();
        }
      });
      await page.setOfflineMode(true);
      await page.setViewport({ width: 1280, height: 900 });
      await page.goto(url, { waitUntil: 'load', timeout: 60_000 });

      // in-page code as text: the test's TypeScript has no DOM types
      const tables = (await page.evaluate(`(() => {
        const out = {};
        document.querySelectorAll('table.data').forEach((t) => {
          out[t.id] = Array.from(t.tBodies[0].rows).map((row) => Array.from(row.cells).map((c) => c.textContent.trim()));
        });
        return out;
      })()`)) as Record<string, string[][]>;
      const n = (s: string) => Number(s.replace(/,/g, ''));

      // files: keys, memory bytes, elements, without TTL, expired per file, then the total row
      expect(tables.files!.length).toBe(files.length + 1);
      report.files.forEach((f: Record<string, number | string>, i: number) => {
        const row = tables.files![i]!;
        expect(row[0]).toBe(f.file);
        expect([n(row[1]!), n(row[2]!), n(row[3]!), n(row[5]!), n(row[6]!), n(row[7]!), n(row[8]!)]).toEqual([f.bytes, f.keys, f.memory, f.elements, f.withoutTtl, f.expired, f.usedMemory]);
      });
      const total = tables.files![files.length]!;
      expect([n(total[2]!), n(total[3]!), n(total[6]!)]).toEqual([report.totals.keys, report.totals.memory, report.totals.withoutTtl]);

      // prefixes, with their error columns
      expect(tables.prefixes!.map((row) => [row[0], n(row[1]!), n(row[2]!), n(row[3]!), n(row[5]!), n(row[6]!), n(row[7]!), n(row[8]!)])).toEqual(
        report.prefixes.entries.map((e: { prefix: string; depth: number; keys: number; memory: number; withoutTtl: number; error: Record<string, number> }) => [
          e.prefix,
          e.depth,
          e.keys,
          e.memory,
          e.withoutTtl,
          e.error.memory,
          e.error.keys,
          e.error.withoutTtl,
        ]),
      );
      const topRows = (t: string[][]) => t.map((row) => [row[0], row[1], n(row[3]!), n(row[5]!), n(row[6]!), row[8]]);
      const topJson = (l: { key: string; type: string; memory: number; elements: number; db: number; file: string }[]) => l.map((k) => [k.key, k.type, k.memory, k.elements, k.db, k.file]);
      expect(topRows(tables['top-memory']!)).toEqual(topJson(report.topByMemory));
      expect(topRows(tables['top-elements']!)).toEqual(topJson(report.topByElements));
      const pn = (s: string) => (s === '–' ? null : n(s));
      expect(tables.types!.map((row) => [row[0], n(row[1]!), n(row[2]!), n(row[4]!), ...row.slice(5).map(pn)])).toEqual(
        report.types.map((t: { type: string; keys: number; memory: number; elements: number; percentiles: Record<string, Record<string, number | null>> }) => [
          t.type,
          t.keys,
          t.memory,
          t.elements,
          ...['memory', 'elements'].flatMap((m) => ['p50', 'p90', 'p99', 'max'].map((p) => t.percentiles[m]![p])),
        ]),
      );
      expect(tables.encodings!.map((row) => [row[0], row[1], n(row[2]!), n(row[3]!)])).toEqual(
        report.encodingsHistogram.map((e: { type: string; encoding: string; keys: number; memory: number }) => [e.type, e.encoding, e.keys, e.memory]),
      );
      expect(tables.ttl!.map((row) => [row[0], n(row[1]!), n(row[2]!)])).toEqual(report.ttl.map((b: { label: string; keys: number; memory: number }) => [b.label, b.keys, b.memory]));

      // the pictures are there; the script ran and sorts a table by a clicked column
      expect(await page.evaluate(`document.querySelectorAll('#treemap g.tm').length`)).toBeGreaterThan(0);
      expect(await page.evaluate(`document.querySelectorAll('#chart-ttl rect').length`)).toBe(report.ttl.length);
      expect(await page.evaluate(`document.body.classList.contains('js')`)).toBe(true);
      await page.click('#prefixes thead th:nth-child(3)');
      const keysCol = (await page.evaluate(
        `Array.from(document.querySelectorAll('#prefixes tbody tr')).map((r) => Number(r.cells[2].textContent.replace(/,/g, '')))`,
      )) as number[];
      expect(keysCol).toEqual([...keysCol].sort((a, b) => a - b));

      mkdirSync(join(root, 'test-artifacts'), { recursive: true });
      await page.screenshot({ path: join(root, 'test-artifacts/report.png'), fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 180_000);
});
