// A key handed out in pieces (`KeyspacePiece`, `partial: true`) whose input then ends, or goes on to another key,
// before its last piece: a damaged file read up to the damage. Consumers that write the pieces as they come tell
// their writer where such a key's output lies, so that none of it is kept once it proves unfinished.
import type { Bytes, KeyspacePiece } from '@redis-persist/keyspace';

/**
 * Told by a chunk producer (keyspaceJsonlStream in file order, respChunks) where the output of a key in pieces lies.
 * Offsets count the bytes the producer hands out; after a {@link drop} it counts on from the dropped key's start.
 * With one given, an unfinished piece sequence is dropped (and reported here) instead of being an error.
 */
export interface PieceOutput {
  /** The output of a key in pieces starts at byte `at` (bytes handed out before it may still be on their way). */
  open?(at: number): void;
  /** That key's last piece is out: the output up to byte `at` ends on a whole record again. */
  close?(at: number): void;
  /**
   * A key's pieces stopped before its last one: it is left out. `at` is where its output started (the bytes from
   * there on, some perhaps already handed out, are to be dropped: the next ones continue at `at`), or null when
   * nothing of it reached the output (a sorting consumer held it).
   */
  drop?(db: number, key: Bytes, at: number | null): void;
}

/**
 * A string handed out in pieces (the RDB parser's `stringPieceBytes`: `stringLength` on every piece): its pieces,
 * in order, are the bytes of the whole value.
 */
export function isStringPiece(r: KeyspacePiece): r is KeyspacePiece & { kind: 'key'; type: 'string'; stringLength: number } {
  return r.kind === 'key' && r.type === 'string' && r.stringLength !== undefined;
}

/**
 * The RESP of `SET <key> <value>` up to the value's bytes, for a value of `length` bytes that follows in pieces
 * (then CRLF): the bytes `SET key value` encodes to, without the value in hand.
 */
export function setCommandHead(key: Bytes, length: number): Uint8Array {
  const head = Buffer.from(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n`, 'latin1');
  const tail = Buffer.from(`\r\n$${length}\r\n`, 'latin1');
  return Buffer.concat([head, key, tail]);
}
