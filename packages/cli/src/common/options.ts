import { usageError } from './exit.js';

/** `--db N` (repeatable) as database numbers: non-negative integers, else a usage error. */
export function dbNumbers(values: readonly string[] | undefined): number[] | undefined {
  return values?.map((d) => {
    const n = Number(d);
    if (!Number.isInteger(n) || n < 0) throw usageError(`--db wants a database number, got ${JSON.stringify(d)}`);
    return n;
  });
}

/** `--sort-memory <MiB>` in bytes: a positive number, else a usage error. */
export function sortMemoryBytes(value: string | undefined): number {
  const mib = Number(value);
  if (!(mib > 0)) throw usageError('--sort-memory wants a positive number of MiB');
  return mib * 1024 * 1024;
}
