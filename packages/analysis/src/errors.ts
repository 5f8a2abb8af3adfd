import { RedisPersistError, type RedisPersistErrorInit } from '@redis-persist/bytes';

/**
 * `duplicate-key`: an input holds the same db and key twice (Redis refuses to load it, so no diff can say what it
 * holds); `format`: a keyspace stream that is not canonical JSON Lines (a bug upstream, or a foreign file).
 */
export type AnalysisErrorCode = 'duplicate-key' | 'format';

/** The analysis package's error: both codes are a problem in the data (CLI exit 1). */
export class AnalysisError extends RedisPersistError<AnalysisErrorCode> {
  override readonly name: string = 'AnalysisError';
  constructor(code: AnalysisErrorCode, detail: string, init: RedisPersistErrorInit = {}) {
    super(code, detail, { ...init, kind: init.kind ?? 'data' });
  }
}
