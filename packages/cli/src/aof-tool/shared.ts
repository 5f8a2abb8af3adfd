import { reprQuote } from '@redis-persist/aof';
import { CliExit, ExitCode, usageError } from '../common/index.js';

/** Parses a non-negative integer option value, or fails with a usage error naming the option. */
export function intOption(name: string, value: string): number {
  if (!/^\d+$/.test(value)) throw usageError(`${name} expects a non-negative integer, got '${value}'`);
  return Number(value);
}

/** A command argument the way redis-cli prints it: always quoted, non-printable bytes escaped. */
export function quoteArg(arg: Uint8Array): string {
  return reprQuote(arg);
}

export function isoSeconds(ts: number): string {
  return new Date(ts * 1000).toISOString().replace('.000Z', 'Z');
}

export function dataProblem(message: string): CliExit {
  return new CliExit(ExitCode.Problem, message);
}
