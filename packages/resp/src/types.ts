/** A RESP2 value. Strings of bulk type are raw bytes; `null` values are the RESP2 nulls `$-1` and `*-1`. */
export type RespValue =
  | { type: 'simple'; value: string }
  | { type: 'error'; value: string }
  | { type: 'integer'; value: bigint }
  | { type: 'bulk'; value: Uint8Array | null }
  | { type: 'array'; value: RespValue[] | null };

/** Bounds on what a decoder accepts from its input; every length read from the input is checked against them. */
export interface RespLimits {
  /** Largest bulk string, in bytes. Default 512 MiB (Redis' proto-max-bulk-len). */
  maxBulkLength?: number;
  /** Largest array element count. Default 2^31-1; counts are never preallocated from the header. */
  maxArrayLength?: number;
  /** Deepest array nesting (a top-level array is depth 1). Default 64. */
  maxDepth?: number;
  /** Longest content of a `+ - : $ *` line (after the type byte, before CRLF). Default 64 KiB. */
  maxLineLength?: number;
}

export const DEFAULT_LIMITS: Required<RespLimits> = {
  maxBulkLength: 512 * 1024 * 1024,
  maxArrayLength: 2 ** 31 - 1,
  maxDepth: 64,
  maxLineLength: 64 * 1024,
};
