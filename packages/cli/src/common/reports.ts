// JSON shapes shared by the commands' --json reports.
import type { DropInfo } from '@redis-persist/rdb-writer';
import { bytesToDisplay } from './output.js';
import { describeError } from './run.js';

/** An error as --json reports show it: its code, what it concerns (db, key, feature, files) and its message. */
export function errorJson(err: unknown): Record<string, unknown> {
  const e = err as { code?: unknown; message?: string; db?: number; key?: Uint8Array; files?: string[]; feature?: string };
  return {
    code: typeof e.code === 'string' ? e.code : 'io',
    ...(e.feature !== undefined ? { feature: e.feature } : {}),
    ...(e.db !== undefined ? { db: e.db } : {}),
    ...(e.key instanceof Uint8Array ? { key: bytesToDisplay(e.key) } : {}),
    ...(e.files !== undefined ? { files: e.files } : {}),
    message: describeError(err),
  };
}

/** A key or library the writer left out (or wrote without newer metadata). */
export function dropJson(d: DropInfo) {
  return {
    kind: d.kind,
    ...(d.db !== undefined ? { db: d.db } : {}),
    ...(d.key !== undefined ? { key: bytesToDisplay(d.key) } : {}),
    ...(d.library !== undefined ? { library: d.library } : {}),
    feature: d.feature,
    message: d.message,
  };
}

