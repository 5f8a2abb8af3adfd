/** Exit codes shared by aof-tool and rdb-tool. */
export const ExitCode = {
  /** Everything checked out / the command did what was asked. */
  Ok: 0,
  /** A problem was found in the data (damaged, truncated, refused). */
  Problem: 1,
  /** Bad command line. */
  Usage: 2,
  /** I/O or internal error. */
  Io: 3,
  /** Interrupted by a signal. */
  Interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Thrown by command handlers to stop with a message and an exit code (no stack trace is printed). */
export class CliExit extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
  ) {
    super(message);
  }
}

export function usageError(message: string): CliExit {
  return new CliExit(ExitCode.Usage, message);
}
