import { Chalk, type ChalkInstance } from 'chalk';

/** Colour only on a TTY, never with NO_COLOR set (any value) or TERM=dumb. */
export function useColor(stream: NodeJS.WriteStream): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY) && process.env.TERM !== 'dumb';
}

export interface Output {
  /** Styling for stdout text (a no-op chalk when colour is off). */
  c: ChalkInstance;
  /** Styling for stderr text. */
  e: ChalkInstance;
  out(line: string): void;
  err(line: string): void;
  /** One JSON document on stdout. */
  json(value: unknown): void;
  /** Writes raw text to stdout, waiting for the pipe to drain (for long streamed outputs). */
  write(text: string | Uint8Array): Promise<void>;
}

export function createOutput(): Output {
  const c = new Chalk({ level: useColor(process.stdout) ? 1 : 0 });
  const e = new Chalk({ level: useColor(process.stderr) ? 1 : 0 });
  return {
    c,
    e,
    out: (line) => void process.stdout.write(line + '\n'),
    err: (line) => void process.stderr.write(line + '\n'),
    json: (value) => void process.stdout.write(JSON.stringify(value, jsonReplacer, 2) + '\n'),
    write: (text) =>
      new Promise<void>((resolve, reject) => {
        if (process.stdout.write(text)) {
          resolve();
          return;
        }
        const done = (err?: Error) => {
          process.stdout.off('drain', done);
          process.stdout.off('error', done);
          if (err) reject(err);
          else resolve();
        };
        process.stdout.on('drain', done);
        process.stdout.on('error', done);
      }),
  };
}

/** JSON.stringify replacer: bigints as numbers when safe, else strings; byte arrays as UTF-8 or base64. */
export function jsonReplacer(this: unknown, key: string, value: unknown): unknown {
  // Buffers reach a replacer already turned into {type:'Buffer',data} by their toJSON: look at the original
  const original = this !== null && typeof this === 'object' ? (this as Record<string, unknown>)[key] : undefined;
  if (original instanceof Uint8Array) return bytesToDisplay(original);
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value.toString();
  }
  if (value instanceof Uint8Array) return bytesToDisplay(value);
  return value;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A byte string as JSON would show it: the UTF-8 text when valid, else `{ base64 }`. */
export function bytesToDisplay(bytes: Uint8Array): string | { base64: string } {
  try {
    return utf8.decode(bytes);
  } catch {
    return { base64: Buffer.from(bytes).toString('base64') };
  }
}

