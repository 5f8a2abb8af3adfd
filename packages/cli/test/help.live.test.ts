// Every --help of aof-tool and rdb-tool ends with real examples (packages/cli/src/common/examples.ts), a bare call
// prints the help to stderr and exits 2, and the examples that name the shipped files in examples/ work as written.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { EXAMPLES, commandPath } from '../src/common/examples.js';
import { buildAofTool } from '../src/aof-tool/main.js';
import { buildRdbTool } from '../src/rdb-tool/main.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const TOOLS = ['aof-tool', 'rdb-tool'] as const;
type Tool = (typeof TOOLS)[number];
const binOf = (tool: Tool) => join(root, 'packages/cli/bin', `${tool}.js`);
const built = TOOLS.every((t) => existsSync(join(root, 'packages/cli/dist', t, 'main.js')));
if (!built) console.warn('[help tests] packages/cli/dist is missing: run `pnpm build` first; the binary tests are skipped');

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'cli-help-'));
  temps.push(d);
  return d;
}

function run(tool: Tool, args: string[]) {
  const r = spawnSync(process.execPath, [binOf(tool), ...args], {
    encoding: 'utf8',
    input: '',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The subcommand names listed under "Commands:" in a program's help (without commander's own `help`). */
function listedCommands(help: string): string[] {
  const section = help.split(/^Commands:\n/m)[1] ?? '';
  const names: string[] = [];
  for (const line of section.split('\n')) {
    if (line === '' || !line.startsWith('  ')) break;
    const m = /^ {2}(\S+)/.exec(line);
    if (m && m[1] !== 'help') names.push(m[1]);
  }
  return names;
}

interface ParsedExample {
  does: string;
  run: string;
}

/** The examples the help ends with; fails unless the help ends with an "Examples:" section of `# what` + `$ cmd` pairs. */
function examplesAtEnd(help: string, name: string): ParsedExample[] {
  const at = help.lastIndexOf('\nExamples:\n');
  expect(at, `${name} --help has an Examples: section`).toBeGreaterThan(0);
  const lines = help.slice(at + '\nExamples:\n'.length).replace(/\n+$/, '').split('\n');
  const out: ParsedExample[] = [];
  for (let i = 0; i < lines.length; i += 2) {
    expect(lines[i], `${name}: a one-line comment before each example`).toMatch(/^ {2}# \S/);
    expect(lines[i + 1], `${name}: the example after "${lines[i]}"`).toMatch(/^ {2}\$ \S/);
    out.push({ does: lines[i].slice(4), run: lines[i + 1].slice(4) });
  }
  return out;
}

/** Every command of a program, the program first (commander's `help` is not among them). */
function allCommands(program: Command): Command[] {
  const all: Command[] = [program];
  for (let i = 0; i < all.length; i++) all.push(...all[i].commands);
  return all;
}

const programs = [await buildAofTool(), await buildRdbTool()];

describe('the examples table (packages/cli/src/common/examples.ts)', () => {
  const names = programs.flatMap((p) => allCommands(p).map(commandPath));

  it('has two or three examples for every command and subcommand: add them when you register a command', () => {
    const missing = names.filter((n) => (EXAMPLES[n]?.length ?? 0) < 2);
    expect(missing, 'commands without examples in EXAMPLES').toEqual([]);
    for (const n of names) expect(EXAMPLES[n].length, n).toBeLessThanOrEqual(3);
  });

  it('has no entry for a command that does not exist, and every example runs the command it is listed under', () => {
    expect(Object.keys(EXAMPLES).filter((k) => !names.includes(k))).toEqual([]);
    for (const [name, examples] of Object.entries(EXAMPLES)) {
      for (const e of examples) {
        expect(e.run.startsWith(`${name} `), `${name}: ${e.run}`).toBe(true);
        if (!name.includes(' ')) expect(e.run.split(' ')[1], `${name}: ${e.run} names a subcommand`).toMatch(/^[a-z]/);
        expect(e.does, `${name}: ${e.run}`).not.toMatch(/\n/);
        expect(e.run, `${name}: ${e.run}`).not.toMatch(/\n/);
      }
    }
  });
});

describe.skipIf(!built)('--help of the built aof-tool and rdb-tool', () => {
  for (const tool of TOOLS) {
    it(`${tool} --help and every subcommand's --help end with examples of that command`, () => {
      const top = run(tool, ['--help']);
      expect(top.code).toBe(0);
      expect(top.stdout).toMatch(new RegExp(`^Usage: ${tool} `));
      const subs = listedCommands(top.stdout);
      const expected = programs[tool === 'aof-tool' ? 0 : 1]!.commands.map((c) => c.name());
      expect(subs).toEqual(expected);
      expect(subs.length).toBeGreaterThanOrEqual(6);

      const topExamples = examplesAtEnd(top.stdout, tool);
      expect(topExamples.length).toBeGreaterThanOrEqual(2);
      for (const e of topExamples) {
        expect(e.run.startsWith(`${tool} `)).toBe(true);
        expect(subs, `${tool} example "${e.run}" runs a subcommand`).toContain(e.run.split(' ')[1]);
      }
      expect(topExamples, 'the build is older than examples.ts: run pnpm build').toEqual(EXAMPLES[tool]);

      for (const sub of subs) {
        const name = `${tool} ${sub}`;
        const r = run(tool, [sub, '--help']);
        expect(r.code, `${name} --help`).toBe(0);
        expect(r.stdout).toMatch(new RegExp(`^Usage: ${name} `));
        const examples = examplesAtEnd(r.stdout, name);
        expect(examples.length, `${name}: at least two examples`).toBeGreaterThanOrEqual(2);
        for (const e of examples) expect(e.run.startsWith(`${name} `), `${name}: "${e.run}"`).toBe(true);
        expect(examples, 'the build is older than examples.ts: run pnpm build').toEqual(EXAMPLES[name]);
      }
      // `help <command>` shows the same help
      expect(run(tool, ['help', subs[0]]).stdout).toBe(run(tool, [subs[0], '--help']).stdout);
    });

    it(`a bare ${tool} prints the help to stderr and exits 2; --help exits 0`, () => {
      const bare = run(tool, []);
      expect(bare.code).toBe(2);
      expect(bare.stdout).toBe('');
      expect(bare.stderr).toMatch(new RegExp(`^Usage: ${tool} \\[options\\] \\[command\\]`));
      expect(bare.stderr).toMatch(/\nCommands:\n/);
      expect(bare.stderr).toMatch(/\nExamples:\n/);
      const help = run(tool, ['--help']);
      expect(help.code).toBe(0);
      expect(help.stderr).toBe('');
      expect(help.stdout).toBe(bare.stderr);
      expect(run(tool, ['help']).code).toBe(0);
    });
  }

  // The examples that name the shipped files run as written, from a fresh copy of examples/ each (some edit in place),
  // with aof-tool and rdb-tool on the PATH. Exit codes other than 0 are listed here.
  const EXIT_CODE: Record<string, number> = {
    'aof-tool check examples/crashed/appendonly.aof': 1,
  };

  it('the examples on the shipped files in examples/ work as written', () => {
    const all = [...new Set(Object.values(EXAMPLES).flat().map((e) => e.run))];
    const runnable = all.filter((cmd) => /(^|\s)examples\//.test(cmd));
    expect(runnable).toContain('aof-tool check examples/crashed/appendonly.aof');
    expect(runnable).toContain('aof-tool strip --dry-run FLUSHALL examples/flushall/appendonlydir');
    expect(runnable.length).toBeGreaterThanOrEqual(12);

    const bin = join(tmp(), 'bin');
    mkdirSync(bin);
    for (const tool of TOOLS) {
      writeFileSync(join(bin, tool), `#!/bin/sh\nexec '${process.execPath}' '${binOf(tool)}' "$@"\n`);
      chmodSync(join(bin, tool), 0o755);
    }
    const failures: string[] = [];
    for (const cmd of runnable) {
      const cwd = tmp();
      cpSync(join(root, 'examples'), join(cwd, 'examples'), { recursive: true });
      const r = spawnSync('/bin/sh', ['-c', cmd], {
        cwd,
        encoding: 'utf8',
        input: '',
        env: { ...process.env, NO_COLOR: '1', PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` },
        timeout: 60_000,
      });
      const want = EXIT_CODE[cmd] ?? 0;
      if (r.status !== want) failures.push(`${cmd}: exit ${r.status}, expected ${want}\n${r.stdout}${r.stderr}`);
      else if (r.stdout === '') failures.push(`${cmd}: printed nothing\n${r.stderr}`);
    }
    expect(failures).toEqual([]);
  });

  it('aof-tool check on the crashed example exits 1; strip --dry-run FLUSHALL on the flushall one exits 0', () => {
    const crashed = run('aof-tool', ['check', join(root, 'examples/crashed/appendonly.aof')]);
    expect(crashed.code).toBe(1);
    expect(crashed.stdout).toMatch(/TRUNCATED/);
    const strip = run('aof-tool', ['strip', '--dry-run', 'FLUSHALL', join(root, 'examples/flushall/appendonlydir')]);
    expect(strip.code).toBe(0);
    expect(strip.stdout).toMatch(/would remove appendonly\.aof\.2\.incr\.aof:153 db=0 "FLUSHALL"/);
  });
});
