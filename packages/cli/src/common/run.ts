import { CommanderError, type Command } from 'commander';
import { setNoticeHandler } from '@redis-persist/fsio';
import { CliExit, ExitCode } from './exit.js';

interface DataErrorLike {
  message: string;
  file?: string;
  offset?: number;
  code?: string;
}

/**
 * fsio's refusals are not I/O failures: an output that exists or is the input, or a FIFO where a file is needed,
 * is a usage error (2); a file a server holds or another run has locked is a problem found (1).
 */
function refusalExitCode(err: unknown): ExitCode | null {
  if (!(err instanceof Error) || err.name !== 'FsioError') return null;
  const code = (err as { code?: unknown }).code;
  if (code === 'output-exists' || code === 'output-is-input' || code === 'not-regular') return ExitCode.Usage;
  if (code === 'locked' || code === 'in-use') return ExitCode.Problem;
  return null;
}

/**
 * A live server's errors: a bad address is a usage error (2); no connection, or one that ended, an I/O error (3);
 * what the server refused or answered (auth, permissions, replies, protocol, cluster state) a problem found (1).
 */
export function liveExitCode(err: unknown): ExitCode | null {
  if (!(err instanceof Error) || err.name !== 'LiveError') return null;
  const code = (err as { code?: unknown }).code;
  if (code === 'url') return ExitCode.Usage;
  if (code === 'connect' || code === 'closed' || code === 'timeout') return ExitCode.Io;
  return ExitCode.Problem;
}

/** Errors of our libraries carry a `code`; the I/O ones come from fsio (or Node itself). */
function isIoError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'FsioError') return true;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}

function isDataError(err: unknown): err is DataErrorLike {
  return err instanceof Error && /^(Resp|Aof|Rdb|RdbWriter|Keyspace|Bytes|Replay|Cluster)Error$/.test(err.name);
}

/** One-line description of an error; library errors already name the file and offset. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * Runs a commander program and maps every outcome to an exit code: usage errors 2, data problems 1,
 * I/O and internal errors 3, SIGINT 130. Never prints a stack trace unless REDIS_PERSIST_DEBUG is set.
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
  const onSigint = () => {
    interrupted = true;
    process.stderr.write('\ninterrupted\n');
    process.exit(ExitCode.Interrupted);
  };
  process.once('SIGINT', onSigint);
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.Ok;
  } catch (err) {
    if (interrupted) return ExitCode.Interrupted;
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
    const refused = refusalExitCode(err) ?? liveExitCode(err);
    if (refused !== null) {
      process.stderr.write(`${name}: ${describeError(err)}\n`);
      return refused;
    }
    if (isIoError(err)) {
      process.stderr.write(`${name}: ${describeError(err)}\n`);
      return ExitCode.Io;
    }
    if (isDataError(err)) {
      process.stderr.write(`${name}: ${describeError(err)}\n`);
      return ExitCode.Problem;
    }
    process.stderr.write(`${name}: internal error: ${describeError(err)}\n`);
    return ExitCode.Io;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
