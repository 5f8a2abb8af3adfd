/** Machine-readable reason of a {@link ReplayError}. */
export type ReplayErrorCode =
  | 'unknown-command' // a command the replayer does not know (or refuses to guess)
  | 'unsupported' // a known command in a form whose exact effect cannot be reproduced offline
  | 'syntax' // a command whose arguments Redis itself would reject at load time
  | 'input'; // the input cannot be replayed (e.g. --until without #TS annotations)

/** The one error class of @redis-persist/replay. Messages read `<file>: offset <n>: <what>`. */
export class ReplayError extends Error {
  override readonly name = 'ReplayError';
  constructor(
    readonly code: ReplayErrorCode,
    readonly detail: string,
    readonly file?: string,
    readonly offset?: number,
  ) {
    super((file !== undefined ? `${file}: ` : '') + (offset !== undefined ? `offset ${offset}: ` : '') + detail);
  }
}
