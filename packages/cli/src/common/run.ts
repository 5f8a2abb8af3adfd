import { CommanderError, type Command } from 'commander';
import { isRedisPersistError, type RedisPersistErrorKind } from '@redis-persist/bytes';
import { setNoticeHandler } from '@redis-persist/fsio';
import { CliExit, ExitCode } from './exit.js';

/** The exit code of each kind of library error (see RedisPersistErrorKind for what each kind means). */
export const EXIT_CODE_OF_KIND: Record<RedisPersistErrorKind, ExitCode> = {
  data: ExitCode.Problem,
  // a server that refused or answered wrongly, a file in use: a problem found, as damaged data is
  server: ExitCode.Problem,
  busy: ExitCode.Problem,
  usage: ExitCode.Usage,
  // an output that exists or is the input: the command line must change (or --force), as for a usage error
  refused: ExitCode.Usage,
  io: ExitCode.Io,
  unreachable: ExitCode.Io,
  internal: ExitCode.Io,
};

/**
 * The exit code of an error: a library error by its kind, a Node system error (`ENOENT`...) an I/O error (3), any
 * other error internal (3).
 */
export function exitCodeOf(err: unknown): ExitCode {
  if (isRedisPersistError(err)) return EXIT_CODE_OF_KIND[err.kind];
  return ExitCode.Io;
}

/** A Node system error (an errno code such as `ENOENT`), which the library wrappers did not catch. */
function isSystemError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}

/**
 * The flags of the library options that library messages name (in backquotes: `force`, `skipUnknown`...), by
 * error class and code. The libraries do not know the command line; the CLI says it in its own words.
 */
const FLAGS: Record<string, Record<string, string>> = {
  'FsioError:output-exists': { force: '--force' },
  'ReplayError:unknown-command': { skipUnknown: '--skip-unknown' },
  'ReplayError:unsupported': { skipUnknown: '--skip-unknown' },
  'ReplayError:input': { truncateToTimestamp: '--until' },
  'StripSelectionError:unsupported': { at: '--at', keys: '--key', since: '--since', until: '--until', dryRun: '--dry-run' },
  'LiveError:cluster': { cluster: '--cluster', dbMap: '--db-map' },
  'RestoreError:cluster': { cluster: '--cluster', dbMap: '--db-map' },
  'RdbWriterError:options': { valkey: '--valkey' },
  'LiveError:not-empty': { replace: '--replace', flush: '--flush' },
  'RestoreError:not-empty': { replace: '--replace', flush: '--flush' },
};

/** A library message in the CLI's words: option names (`force`) become their flags (--force). */
export function cliMessage(err: { name: string; code: string; message: string }): string {
  const flags = FLAGS[`${err.name}:${err.code}`];
  if (flags === undefined) return err.message;
  return err.message.replace(/`([A-Za-z]+)`/g, (all, option: string) => flags[option] ?? all);
}

/** One-line description of an error; library errors already name the file and offset. */
export function describeError(err: unknown): string {
  if (isRedisPersistError(err)) return cliMessage(err);
  if (err instanceof Error) return err.message;
  return String(err);
}

/** The controller whose signal the running command passes to its library calls; SIGINT aborts it. */
let interrupt = new AbortController();
/** Whether the running command took the signal (else SIGINT exits at once, as there is nothing to wind down). */
let signalTaken = false;

/**
 * The signal of the running command: aborted by Ctrl-C (SIGINT), with an `AbortError`. A command passes it to its
 * library calls (`signal` option), which then stop at their next chunk, close their files and remove their temp
 * files; the runner exits 130.
 */
export function interruptSignal(): AbortSignal {
  signalTaken = true;
  return interrupt.signal;
}

/**
 * How long a library call has, after SIGINT aborted it, to wind down before the process exits anyway (3 s; tests
 * set REDIS_PERSIST_INTERRUPT_GRACE_MS to make sure the abort, not this exit, did the cleaning up).
 */
const INTERRUPT_GRACE_MS = Number(process.env.REDIS_PERSIST_INTERRUPT_GRACE_MS) || 3000;

/**
 * Runs a commander program and maps every outcome to an exit code: usage errors 2, data problems 1,
 * I/O and internal errors 3, SIGINT 130. Never prints a stack trace unless REDIS_PERSIST_DEBUG is set.
 * SIGINT aborts {@link interruptSignal}: the library call stops at its next chunk and cleans up (temp files
 * removed, no output), then the runner returns 130; a second SIGINT, or a call still running after a grace
 * period, exits 130 at once (the exit hook still removes registered temp files).
 */
export async function runProgram(program: Command, argv: string[]): Promise<number> {
  // Subcommands copy these settings when created, which happened before we were called: set them on each.
  const all: Command[] = [program];
  for (let i = 0; i < all.length; i++) all.push(...all[i].commands);
  for (const cmd of all) {
    cmd.exitOverride();
    cmd.configureOutput({ writeErr: (s) => process.stderr.write(s) });
  }
  setNoticeHandler((message) => process.stderr.write(`${program.name()}: note: ${message}\n`));
  let interrupted = false;
  interrupt = new AbortController();
  signalTaken = false;
  const onSigint = () => {
    if (interrupted) process.exit(ExitCode.Interrupted);
    interrupted = true;
    process.stderr.write('\ninterrupted\n');
    if (!signalTaken) process.exit(ExitCode.Interrupted);
    interrupt.abort(new DOMException('interrupted (SIGINT)', 'AbortError'));
    setTimeout(() => process.exit(ExitCode.Interrupted), INTERRUPT_GRACE_MS).unref();
  };
  process.on('SIGINT', onSigint);
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    if (interrupted) return ExitCode.Interrupted;
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.Ok;
  } catch (err) {
    if (interrupted) {
      // (with REDIS_PERSIST_DEBUG: the call's rejection, normally the signal's AbortError)
      if (process.env.REDIS_PERSIST_DEBUG) console.error(err);
      return ExitCode.Interrupted;
    }
    if (err instanceof CommanderError) {
      // A bare `aof-tool` (no command) gets the help on stderr from commander, with exit code 1: a usage error.
      if (err.code === 'commander.help' && err.exitCode !== 0) return ExitCode.Usage;
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') return ExitCode.Ok;
      return ExitCode.Usage;
    }
    if (process.env.REDIS_PERSIST_DEBUG) console.error(err);
    const name = program.name();
    if (err instanceof CliExit) {
      if (err.message) process.stderr.write(`${name}: ${err.message}\n`);
      return err.exitCode;
    }
    if (isRedisPersistError(err)) {
      const code = EXIT_CODE_OF_KIND[err.kind];
      process.stderr.write(`${name}: ${err.kind === 'internal' ? 'internal error: ' : ''}${describeError(err)}\n`);
      return code;
    }
    if (isSystemError(err)) {
      process.stderr.write(`${name}: ${describeError(err)}\n`);
      return ExitCode.Io;
    }
    process.stderr.write(`${name}: internal error: ${describeError(err)}\n`);
    return ExitCode.Io;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
