// The `report` as ONE self-contained HTML page: inline CSS, an inline script that only enhances (sortable tables, a
// filter on the prefix table), and SVG rendered here (a squarified treemap of the prefix tree, bar charts of the
// histograms). Every table is plain HTML, readable without JavaScript; nothing is fetched (a Content-Security-Policy
// forbids any load besides the inline style and script).
import { formatBytes } from '@redis-persist/bytes';
import type { PrefixEntry, Report, TopKey } from './report.js';

/** Rows of the prefix table on the page (the JSON has them all). */
export const HTML_PREFIX_ROWS = 500;

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const num = (n: number | null): string => (n === null ? '–' : n.toLocaleString('en-US'));


function table(id: string, caption: string, head: string[], rows: string[][], numeric: boolean[]): string {
  const th = head.map((h, i) => `<th${numeric[i] ? ' class="n"' : ''} scope="col">${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c, i) => `<td${numeric[i] ? ' class="n"' : ''}>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table id="${id}" class="data"><caption>${caption}</caption><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function expiry(k: TopKey, now: number): string {
  if (k.expireAt === null) return 'none';
  const s = Math.round((k.expireAt - now) / 1000);
  return s <= 0 ? 'expired' : `${num(s)} s`;
}

// ---- treemap ----

interface TNode {
  label: string;
  value: number;
  children: TNode[];
  entry: PrefixEntry | null;
}

interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

function worst(row: number[], side: number): number {
  const s = row.reduce((a, b) => a + b, 0);
  const max = Math.max(...row);
  const min = Math.min(...row);
  return Math.max((side * side * max) / (s * s), (s * s) / (side * side * min));
}

/** Squarified treemap (Bruls, Huizing, van Wijk) of values already scaled to the rectangle's area. */
function squarify(values: number[], r: Rect): Rect[] {
  const out: Rect[] = new Array<Rect>(values.length);
  let i = 0;
  let { x, y, w, h } = r;
  while (i < values.length) {
    const side = Math.min(w, h);
    if (side <= 0) {
      for (; i < values.length; i++) out[i] = { x, y, w: 0, h: 0 };
      break;
    }
    const row = [values[i]!];
    let j = i + 1;
    while (j < values.length && worst([...row, values[j]!], side) <= worst(row, side)) row.push(values[j++]!);
    const s = row.reduce((a, b) => a + b, 0);
    if (w >= h) {
      const rw = s / h;
      let yy = y;
      for (let k = 0; k < row.length; k++) {
        const rh = row[k]! / rw;
        out[i + k] = { x, y: yy, w: rw, h: rh };
        yy += rh;
      }
      x += rw;
      w -= rw;
    } else {
      const rh = s / w;
      let xx = x;
      for (let k = 0; k < row.length; k++) {
        const rw = row[k]! / rh;
        out[i + k] = { x: xx, y, w: rw, h: rh };
        xx += rw;
      }
      y += rh;
      h -= rh;
    }
    i = j;
  }
  return out;
}

function buildTree(report: Report): TNode {
  const root: TNode = { label: '(all keys)', value: report.totals.memory, children: [], entry: null };
  const byPrefix = new Map<string, TNode>();
  const sorted = [...report.prefixes.entries].sort((a, b) => a.depth - b.depth);
  for (const e of sorted) byPrefix.set(e.prefix, { label: e.prefix, value: e.memory, children: [], entry: e });
  for (const e of sorted) {
    const node = byPrefix.get(e.prefix)!;
    const parent = (e.parent !== null ? byPrefix.get(e.parent) : undefined) ?? root;
    parent.children.push(node);
  }
  return root;
}

const MAX_RECTS = 3000;

function treemapSvg(report: Report, width: number, height: number): string {
  const root = buildTree(report);
  const parts: string[] = [];
  let count = 0;
  const hues = new Map<TNode, number>();
  const draw = (node: TNode, r: Rect, depth: number, hue: number): void => {
    if (count >= MAX_RECTS) return;
    if (depth > 0) {
      count++;
      const e = node.entry!;
      const light = 88 - Math.min(depth, 4) * 10;
      const tip = `${e.prefix} — ${formatBytes(e.memory)}, ${num(e.keys)} keys, ${num(e.withoutTtl)} without TTL${e.error.memory ? ` (may exceed by ${formatBytes(e.error.memory)})` : ''}`;
      parts.push(
        `<g class="tm" data-prefix="${esc(e.prefix)}"><rect x="${r.x.toFixed(1)}" y="${r.y.toFixed(1)}" width="${r.w.toFixed(1)}" height="${r.h.toFixed(1)}" fill="hsl(${hue},55%,${light}%)" stroke="#fff" stroke-width="1"><title>${esc(tip)}</title></rect>` +
          (r.w > 60 && r.h > 14 ? `<text x="${(r.x + 3).toFixed(1)}" y="${(r.y + 12).toFixed(1)}">${esc(truncate(e.prefix.split(/[^\w-]/).pop() || e.prefix, Math.floor(r.w / 7)))}</text>` : '') +
          '</g>',
      );
    }
    const pad = depth > 0 && r.h > 30 && r.w > 30 ? 16 : 0;
    const inner: Rect = { x: r.x + (pad ? 2 : 0), y: r.y + pad, w: Math.max(0, r.w - (pad ? 4 : 0)), h: Math.max(0, r.h - pad - (pad ? 2 : 0)) };
    const kids = node.children.filter((c) => c.value > 0).sort((a, b) => b.value - a.value);
    const sum = kids.reduce((s, c) => s + c.value, 0);
    const total = Math.max(node.value, sum);
    if (kids.length === 0 || total <= 0 || inner.w * inner.h < 16) return;
    const area = inner.w * inner.h;
    // the children's share of the node; what is left (keys directly under it, or evicted prefixes) stays blank
    const scaled = kids.map((c) => (c.value / total) * area);
    const rest = area - scaled.reduce((a, b) => a + b, 0);
    const rects = squarify(rest > 0.5 ? [...scaled, rest] : scaled, inner);
    kids.forEach((c, i) => {
      const rr = rects[i]!;
      if (rr.w * rr.h < 4) return;
      const h = depth === 0 ? (hues.size * 137) % 360 : hue;
      if (depth === 0) hues.set(c, h);
      draw(c, rr, depth + 1, h);
    });
  };
  draw(root, { x: 0, y: 0, w: width, h: height }, 0, 0);
  return `<svg id="treemap" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="treemap of the key prefixes by memory" xmlns="http://www.w3.org/2000/svg"><rect width="${width}" height="${height}" fill="#f4f4f4"/>${parts.join('')}</svg>`;
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : s.slice(0, Math.max(1, n - 1)) + '…';
}

function barChart(id: string, title: string, rows: { label: string; value: number; text: string }[]): string {
  const w = 560;
  const bar = 20;
  const labelW = 170;
  const h = rows.length * (bar + 6) + 6;
  const max = Math.max(1, ...rows.map((r) => r.value));
  const g = rows
    .map((r, i) => {
      const y = 6 + i * (bar + 6);
      const bw = ((w - labelW - 110) * r.value) / max;
      return `<text x="${labelW - 6}" y="${y + 15}" text-anchor="end">${esc(truncate(r.label, 26))}</text><rect x="${labelW}" y="${y}" width="${bw.toFixed(1)}" height="${bar}" fill="#4a7fb5"><title>${esc(`${r.label}: ${r.text}`)}</title></rect><text x="${(labelW + bw + 5).toFixed(1)}" y="${y + 15}">${esc(r.text)}</text>`;
    })
    .join('');
  return `<figure><figcaption>${esc(title)}</figcaption><svg id="${id}" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${esc(title)}" xmlns="http://www.w3.org/2000/svg">${g}</svg></figure>`;
}

const CSS = `
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5em auto;max-width:1200px;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table.data{border-collapse:collapse;margin:.8em 0;font-variant-numeric:tabular-nums}
table.data caption{text-align:left;font-weight:600;padding:.3em 0}
table.data th,table.data td{border:1px solid #ddd;padding:2px 8px;text-align:left;vertical-align:top}
table.data th{background:#f2f2f2}
table.data td.n,table.data th.n{text-align:right}
table.data td.k{font-family:ui-monospace,Menlo,Consolas,monospace;word-break:break-all;max-width:40em}
.note{color:#555;font-size:.92em}
svg text{font:11px system-ui,sans-serif;fill:#222;pointer-events:none}
.charts{display:flex;flex-wrap:wrap;gap:1.5em}figure{margin:0}figcaption{font-weight:600}
.js th{cursor:pointer}.js th:hover{background:#e4e4e4}
g.tm:hover rect{stroke:#000;stroke-width:2}
#filter{margin:.5em 0;padding:3px 6px;width:20em}
`;

const SCRIPT = `
(function(){
  document.body.classList.add('js');
  function val(td){var t=td.textContent.replace(/,/g,'');var n=Number(t);return t!==''&&!isNaN(n)?n:td.textContent;}
  document.querySelectorAll('table.data').forEach(function(tb){
    tb.querySelectorAll('thead th').forEach(function(th,i){
      var dir=-1;
      th.addEventListener('click',function(){
        dir=-dir;
        var body=tb.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
        rows.sort(function(a,b){var x=val(a.cells[i]),y=val(b.cells[i]);return (x<y?-1:x>y?1:0)*dir;});
        rows.forEach(function(r){body.appendChild(r);});
      });
    });
  });
  var f=document.getElementById('filter');var pt=document.getElementById('prefixes');
  if(f&&pt){f.hidden=false;f.addEventListener('input',function(){var q=f.value.toLowerCase();
    Array.prototype.forEach.call(pt.tBodies[0].rows,function(r){r.hidden=q!==''&&r.cells[0].textContent.toLowerCase().indexOf(q)<0;});});}
})();
`;

/** Options of {@link reportHtml}: the page title and the time shown. */
export interface ReportHtmlOptions {
  /** The page's title (default: "Redis keyspace report"). */
  title?: string;
  /** When the report was made (shown on the page; default: the report's `now`). */
  generatedAt?: number;
}

/** The report as one self-contained HTML page (no external resource of any kind). */
export function reportHtml(report: Report, options: ReportHtmlOptions = {}): string {
  const title = options.title ?? 'Redis keyspace report';
  const p = report.prefixes;
  const t = report.totals;
  const when = new Date(options.generatedAt ?? report.now).toISOString();
  const files = table(
    'files',
    'Files',
    ['file', 'file bytes', 'keys', 'memory (bytes)', 'memory', 'elements', 'keys without TTL', 'expired keys', 'used_memory after load (bytes)', 'dbs'],
    [
      ...report.files.map((f) => [
        `<span class="k">${esc(f.file)}</span>`,
        num(f.bytes),
        num(f.keys),
        num(f.memory),
        formatBytes(f.memory),
        num(f.elements),
        num(f.withoutTtl),
        num(f.expired),
        num(f.usedMemory),
        esc(f.dbs.map((d) => `db${d.db}: ${d.keys}`).join(', ')),
      ]),
      ['<b>all files</b>', num(report.files.reduce((s, f) => s + f.bytes, 0)), num(t.keys), num(t.memory), formatBytes(t.memory), num(t.elements), num(t.withoutTtl), num(t.expired), num(report.files.reduce((s, f) => s + f.usedMemory, 0)), ''],
    ],
    [false, true, true, true, false, true, true, true, true, false],
  );
  const shown = p.entries.slice(0, HTML_PREFIX_ROWS);
  const prefixes = table(
    'prefixes',
    `Key prefixes (separator ${esc(JSON.stringify(p.separator))}, depth ${p.depth}): ${shown.length < p.entries.length ? `the ${shown.length} largest of ${num(p.entries.length)}` : `all ${num(p.entries.length)}`}, by memory`,
    ['prefix', 'depth', 'keys', 'memory (bytes)', 'memory', 'keys without TTL', '± memory', '± keys', '± without TTL'],
    shown.map((e) => [
      `<span class="k">${esc(e.prefix)}</span>`,
      num(e.depth),
      num(e.keys),
      num(e.memory),
      formatBytes(e.memory),
      num(e.withoutTtl),
      num(e.error.memory),
      num(e.error.keys),
      num(e.error.withoutTtl),
    ]),
    [false, true, true, true, false, true, true, true, true],
  );
  const topRows = (keys: TopKey[]) =>
    keys.map((k) => [
      `<span class="k">${esc(k.key)}</span>`,
      esc(k.type),
      esc(k.encoding),
      num(k.memory),
      formatBytes(k.memory),
      num(k.elements),
      num(k.db),
      esc(expiry(k, report.now)),
      `<span class="k">${esc(k.file)}</span>`,
    ]);
  const topHead = ['key', 'type', 'encoding', 'memory (bytes)', 'memory', 'elements', 'db', 'expires in', 'file'];
  const topNum = [false, false, false, true, false, true, true, false, false];
  const types = table(
    'types',
    'Types (memory and elements percentiles per key)',
    ['type', 'keys', 'memory (bytes)', 'memory', 'elements', 'memory p50', 'memory p90', 'memory p99', 'memory max', 'elements p50', 'elements p90', 'elements p99', 'elements max'],
    report.types.map((r) => [
      esc(r.type),
      num(r.keys),
      num(r.memory),
      formatBytes(r.memory),
      num(r.elements),
      num(r.percentiles.memory.p50),
      num(r.percentiles.memory.p90),
      num(r.percentiles.memory.p99),
      num(r.percentiles.memory.max),
      num(r.percentiles.elements.p50),
      num(r.percentiles.elements.p90),
      num(r.percentiles.elements.p99),
      num(r.percentiles.elements.max),
    ]),
    [false, true, true, false, true, true, true, true, true, true, true, true, true],
  );
  const encodings = table(
    'encodings',
    'Encodings (as the loading server holds the keys)',
    ['type', 'encoding', 'keys', 'memory (bytes)', 'memory'],
    report.encodingsHistogram.map((e) => [esc(e.type), esc(e.encoding), num(e.keys), num(e.memory), formatBytes(e.memory)]),
    [false, false, true, true, false],
  );
  const ttl = table(
    'ttl',
    `Time to live, from ${esc(new Date(report.now).toISOString())}`,
    ['bucket', 'keys', 'memory (bytes)', 'memory'],
    report.ttl.map((b) => [esc(b.label), num(b.keys), num(b.memory), formatBytes(b.memory)]),
    [false, true, true, false],
  );
  const accuracy =
    p.mode === 'exact'
      ? `The prefix tree is exact: ${num(p.nodes)} prefixes, within --max-prefixes ${num(p.maxPrefixes)}.`
      : `More than ${num(p.maxPrefixes)} prefixes: the tree holds the heaviest ones (Space-Saving, ${num(p.evictions)} evicted). Each count is an upper bound; the ± columns say by how much it may exceed the truth, and the memory of any prefix is over by at most ${formatBytes(p.memoryErrorBound)} (${num(p.memoryErrorBound)} bytes), its keys by at most ${num(p.keysErrorBound)}. Every prefix above that memory is listed.`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style>${CSS}</style></head>
<body>
<h1>${esc(title)}</h1>
<p class="note">${num(t.keys)} keys in ${report.files.length} file${report.files.length === 1 ? '' : 's'}, ${formatBytes(t.memory)} as MEMORY USAGE counts them (memory model ${esc(report.server)}, ${report.encodings === 'config' ? 'encodings from the given redis.conf' : "the files' own encodings"}). Made ${esc(when)}. Percentiles: ${esc(report.percentileMethod)}.</p>
<h2 id="files-h">Files</h2>
${files}
<h2 id="tree-h">Prefix tree</h2>
<p class="note">${accuracy} Area is memory; a blank part of a box is memory of keys directly under that prefix (or of prefixes not kept). Keys with no separator: ${num(p.unprefixed.keys)}.</p>
${treemapSvg(report, 1160, 560)}
<input id="filter" type="search" placeholder="filter prefixes" hidden>
${prefixes}
<h2 id="top-h">Largest keys</h2>
${table('top-memory', `Top ${report.topByMemory.length} keys by memory`, topHead, topRows(report.topByMemory), topNum)}
${table('top-elements', `Top ${report.topByElements.length} keys by elements`, topHead, topRows(report.topByElements), topNum)}
<h2 id="hist-h">Histograms</h2>
<div class="charts">
${barChart('chart-types', 'Memory by type', report.types.map((r) => ({ label: r.type, value: r.memory, text: formatBytes(r.memory) })))}
${barChart('chart-ttl', 'Keys by time to live', report.ttl.map((b) => ({ label: b.label, value: b.keys, text: num(b.keys) })))}
${barChart('chart-encodings', 'Memory by encoding', report.encodingsHistogram.map((e) => ({ label: `${e.type}/${e.encoding}`, value: e.memory, text: formatBytes(e.memory) })))}
</div>
${types}
${encodings}
${ttl}
<script>${SCRIPT}</script>
</body></html>
`;
}
