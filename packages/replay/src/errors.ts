import { RedisPersistError, type RedisPersistErrorInit } from '@redis-persist/bytes';

/** Machine-readable reason of a {@link ReplayError}. */
export type ReplayErrorCode =
  | 'unknown-command' // a command the replayer does not know (or refuses to guess)
  | 'unsupported' // a known command in a form whose exact effect cannot be reproduced offline
  | 'syntax' // a command whose arguments Redis itself would reject at load time
  | 'input'; // the input cannot be replayed (e.g. --until without #TS annotations)

/**
 * The error of `@redis-persist/replay`. Messages read `<file>: offset <n>: <what>`. `input` (the request does not fit
 * the input, e.g. a time limit on an AOF without timestamps) is a usage error; the other codes are problems of
 * the data.
 */
export class ReplayError extends RedisPersistError<ReplayErrorCode> {
  override readonly name = 'ReplayError';
  constructor(code: ReplayErrorCode, detail: string, init: RedisPersistErrorInit = {}) {
    super(code, detail, { ...init, kind: init.kind ?? (code === 'input' ? 'usage' : 'data') });
  }
}
