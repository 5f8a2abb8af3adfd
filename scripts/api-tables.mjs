#!/usr/bin/env node
// Writes the "API" table of each public package's README.md from its src/index.ts: one row per export (name, kind,
// the first sentence of its TSDoc summary), between the `<!-- api:start -->` and `<!-- api:end -->` markers (added
// before the closing "Part of redis-persist" paragraph when absent). The summaries live in the code, so run this
// after changing an export or its doc comment; test/readme-snippets.live.test.ts checks every export has a row.
//   node scripts/api-tables.mjs           rewrite the tables
//   node scripts/api-tables.mjs --check   exit 1 if a table is out of date (nothing written)
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('..', import.meta.url));
const check = process.argv.includes('--check');
const pkgs = readdirSync(join(root, 'packages'))
  .filter((d) => existsSync(join(root, 'packages', d, 'package.json')))
  .filter((d) => !JSON.parse(readFileSync(join(root, 'packages', d, 'package.json'), 'utf8')).private)
  .sort();
const program = ts.createProgram(
  pkgs.map((d) => join(root, 'packages', d, 'src/index.ts')),
  { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, strict: true, skipLibCheck: true, types: ['node'] },
);
const checker = program.getTypeChecker();

function kindOf(sym) {
  const f = sym.flags;
  if (f & ts.SymbolFlags.Class) return 'class';
  if (f & ts.SymbolFlags.Function) return 'function';
  if (f & ts.SymbolFlags.Enum) return 'enum';
  if (f & ts.SymbolFlags.Interface) return 'interface';
  if (f & ts.SymbolFlags.TypeAlias) return 'type';
  if (f & ts.SymbolFlags.Variable) {
    const decl = sym.valueDeclaration;
    const t = decl ? checker.getTypeOfSymbolAtLocation(sym, decl) : null;
    return t && t.getCallSignatures().length > 0 ? 'function' : 'const';
  }
  return 'other';
}

/** The doc comment's text before its first block tag (read from the source: `@redis-persist/x` in prose is no tag). */
function docText(sym) {
  for (const decl of sym.declarations ?? []) {
    const node = ts.isVariableDeclaration(decl) ? decl.parent.parent : decl;
    const docs = node.jsDoc;
    if (!docs || docs.length === 0) continue;
    const raw = docs[docs.length - 1].getText();
    const lines = raw.replace(/^\/\*\*|\*\/$/g, '').split('\n').map((l) => l.replace(/^\s*\* ?/, ''));
    const cut = lines.findIndex((l) => /^@(param|returns?|example|throws|see|remarks|deprecated|internal)\b/.test(l.trim()));
    return (cut >= 0 ? lines.slice(0, cut) : lines).join(' ');
  }
  return ts.displayPartsToString(sym.getDocumentationComment(checker));
}

/** The first sentence of a doc comment, on one line, as Markdown table cell text. */
function summary(sym) {
  let text = docText(sym).replace(/\{@link\s+([^}|\s]+)(?:[\s|][^}]*)?\}/g, '`$1`');
  text = text.replace(/\s+/g, ' ').trim();
  const m = /^(.*?\.)(\s|$)/.exec(text.replace(/\b(e\.g|i\.e|etc|vs|incl)\./g, '$1\u2024'));
  let first = (m ? m[1] : text).replace(/\u2024/g, '.');
  if (first.length > 200) first = `${first.slice(0, first.lastIndexOf(' ', 197))} …`;
  return first.replace(/\|/g, '\\|') || '(undocumented)';
}

let stale = 0;
for (const d of pkgs) {
  const sf = program.getSourceFile(join(root, 'packages', d, 'src/index.ts'));
  const rows = [];
  for (const e of checker.getExportsOfModule(checker.getSymbolAtLocation(sf))) {
    const sym = e.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(e) : e;
    rows.push(`| \`${e.name}\` | ${kindOf(sym)} | ${summary(sym)} |`);
  }
  const table = ['<!-- api:start -->', '', '| export | kind | what it is |', '| --- | --- | --- |', ...rows, '', '<!-- api:end -->'].join('\n');
  const file = join(root, 'packages', d, 'README.md');
  const before = readFileSync(file, 'utf8');
  let after;
  if (before.includes('<!-- api:start -->')) after = before.replace(/<!-- api:start -->[\s\S]*?<!-- api:end -->/, () => table);
  else {
    const section = `## API\n\nEvery export of \`@redis-persist/${d}\` with the first sentence of its TSDoc (in the repository, \`pnpm run docs\` builds the\nfull API reference from the same comments; \`pnpm docs:tables\` regenerates this table).\n\n${table}\n\n`;
    const at = before.search(/^Part of \[redis-persist\]/m);
    after = at >= 0 ? before.slice(0, at) + section + before.slice(at) : `${before.trimEnd()}\n\n${section}`;
  }
  if (after !== before) {
    stale++;
    if (check) console.error(`${file}: API table out of date`);
    else writeFileSync(file, after);
  }
}
if (check && stale > 0) process.exit(1);
console.log(check ? 'API tables up to date' : `${stale} README(s) updated`);
