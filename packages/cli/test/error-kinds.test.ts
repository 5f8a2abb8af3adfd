// How the CLI turns library errors into exit codes and its own words: by the base class' kind (not by class name),
// with the flags put in where a library names an option.
import { describe, expect, it } from 'vitest';
import { StripSelectionError, AofError } from '@redis-persist/aof';
import { RedisPersistError, type RedisPersistErrorKind } from '@redis-persist/bytes';
import { FsioError } from '@redis-persist/fsio';
import { LiveError } from '@redis-persist/live';
import { ReplayError } from '@redis-persist/replay';
import { EXIT_CODE_OF_KIND, describeError, exitCodeOf } from '../src/common/run.js';
import { ExitCode } from '../src/common/exit.js';

describe('exit codes by kind', () => {
  it('keeps the codes the CLI has always given', () => {
    const cases: [unknown, number][] = [
      [new AofError('truncated', 'x', { file: 'a.aof', offset: 3 }), ExitCode.Problem],
      [new StripSelectionError('at', 'x'), ExitCode.Usage],
      [new StripSelectionError('partial-keys', 'x'), ExitCode.Problem],
      [new ReplayError('input', 'x'), ExitCode.Usage],
      [new ReplayError('unknown-command', 'x'), ExitCode.Problem],
      [new FsioError('io', 'x', { file: 'f' }), ExitCode.Io],
      [new FsioError('output-exists', 'x', { file: 'f' }), ExitCode.Usage],
      [new FsioError('output-is-input', 'x', { file: 'f' }), ExitCode.Usage],
      [new FsioError('not-regular', 'x', { file: 'f' }), ExitCode.Usage],
      [new FsioError('locked', 'x', { file: 'f' }), ExitCode.Problem],
      [new FsioError('in-use', 'x', { file: 'f' }), ExitCode.Problem],
      [new LiveError('url', 'x'), ExitCode.Usage],
      [new LiveError('connect', 'x'), ExitCode.Io],
      [new LiveError('timeout', 'x'), ExitCode.Io],
      [new LiveError('closed', 'x'), ExitCode.Io],
      [new LiveError('noperm', 'x'), ExitCode.Problem],
      [new LiveError('not-empty', 'x'), ExitCode.Problem],
      [new RedisPersistError('x', 'a bug'), ExitCode.Io],
      [new Error('plain'), ExitCode.Io],
    ];
    for (const [err, code] of cases) expect(exitCodeOf(err), String(err)).toBe(code);
    const kinds: RedisPersistErrorKind[] = ['data', 'usage', 'refused', 'busy', 'io', 'unreachable', 'server', 'internal'];
    expect(Object.keys(EXIT_CODE_OF_KIND).sort()).toEqual([...kinds].sort());
  });
});

describe('messages in the CLI words', () => {
  it('puts the flags where a library names an option, for the codes that do', () => {
    const exists = new FsioError('output-exists', 'out.rdb already exists: choose another output, or pass `force` to replace it (the old one is kept as out.rdb.bak)', { file: 'out.rdb' });
    expect(exists.message).not.toMatch(/--/);
    expect(describeError(exists)).toBe('out.rdb already exists: choose another output, or pass --force to replace it (the old one is kept as out.rdb.bak)');
    const unknown = new ReplayError('unknown-command', "unknown command 'FOO' (use `skipUnknown` to go on without it)", { file: 'a.aof', offset: 9 });
    expect(describeError(unknown)).toBe("a.aof: offset 9: unknown command 'FOO' (use --skip-unknown to go on without it)");
    expect(describeError(new StripSelectionError('at', '`at` x.aof:1: nothing to remove there'))).toBe('--at x.aof:1: nothing to remove there');
    // other codes keep their text, backquotes and all
    expect(describeError(new AofError('corrupt', 'a `force` word'))).toBe('a `force` word');
    expect(describeError(new Error('plain'))).toBe('plain');
  });
});
