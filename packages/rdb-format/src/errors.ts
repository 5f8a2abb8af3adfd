/**
 * The error of this package: a blob (listpack, ziplist, intset, zipmap, DUMP payload) or a text (stream ID, module
 * name, function library header) breaks a format rule. `offset` is relative to what the caller handed in; the
 * parser and the writer turn it into their own error class with the file position they know.
 */
export class RdbFormatError extends Error {
  override readonly name = 'RdbFormatError';
  readonly code = 'corrupt' as const;
  constructor(
    message: string,
    readonly offset = 0,
  ) {
    super(message);
  }
}

/** How the decoders report damage: the parser passes its own (raising an RdbError at the blob's file offset). */
export type Fail = (message: string) => never;

/** The default {@link Fail}: throws an {@link RdbFormatError}. */
export const formatFail: Fail = (message: string): never => {
  throw new RdbFormatError(message);
};
