import { describe, expect, it } from 'vitest';
import { BytesError, RedisPersistError, formatErrorLocation, isRedisPersistError, type RedisPersistErrorInit } from '@redis-persist/bytes';

type DemoCode = 'broken' | 'busy';

// A package's error class as every package writes one: its codes, a kind per code, extra fields in the init.
class DemoError extends RedisPersistError<DemoCode> {
  override readonly name = 'DemoError';
  declare readonly key?: string;
  constructor(code: DemoCode, detail: string, init: RedisPersistErrorInit & { key?: string } = {}) {
    super(code, detail, { ...init, kind: init.kind ?? (code === 'busy' ? 'busy' : 'data') });
    if (init.key !== undefined) this.key = init.key;
  }
}

describe('RedisPersistError', () => {
  it('carries code, kind, detail, file, line, offset', () => {
    const e = new DemoError('broken', 'bad length', { file: 'a.aof', offset: 12, key: 'k' });
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(RedisPersistError);
    expect(e.name).toBe('DemoError');
    expect(e.code).toBe('broken');
    expect(e.kind).toBe('data');
    expect(e.detail).toBe('bad length');
    expect(e.file).toBe('a.aof');
    expect(e.offset).toBe(12);
    expect(e.line).toBeUndefined();
    expect(e.key).toBe('k');
    expect(new DemoError('busy', 'x').kind).toBe('busy');
    expect(new DemoError('busy', 'x', { kind: 'refused' }).kind).toBe('refused');
    // A bare base error was not classified by any package: treated as a bug.
    expect(new RedisPersistError('x', 'y').kind).toBe('internal');
  });

  it('leaves unknown places out of the object (no undefined own properties)', () => {
    const e = new DemoError('broken', 'x');
    expect(Object.hasOwn(e, 'file')).toBe(false);
    expect(Object.hasOwn(e, 'offset')).toBe(false);
    expect(Object.hasOwn(e, 'cause')).toBe(false);
  });

  it('formats one message: <file>[:<line>]: offset <n>: <detail>, each part when known', () => {
    expect(new DemoError('broken', 'bad', { file: 'a.aof', offset: 0 }).message).toBe('a.aof: offset 0: bad');
    expect(new DemoError('broken', 'bad', { file: 'a.aof' }).message).toBe('a.aof: bad');
    expect(new DemoError('broken', 'bad', { offset: 7 }).message).toBe('offset 7: bad');
    expect(new DemoError('broken', 'bad', { file: 'in.jsonl', line: 3, offset: 40 }).message).toBe('in.jsonl:3: offset 40: bad');
    expect(new DemoError('broken', 'bad', { line: 3 }).message).toBe('line 3: bad');
    expect(new DemoError('broken', 'bad').message).toBe('bad');
    expect(formatErrorLocation({ file: 'f', offset: 1 })).toBe('f: offset 1: ');
  });

  it('chains the cause as Error does', () => {
    const sys = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
    const e = new DemoError('broken', 'cannot read', { file: 'x', cause: sys });
    expect(e.cause).toBe(sys);
    expect(e.message).toBe('x: cannot read');
  });

  it('is recognised by the guard, also from another copy of the package', () => {
    expect(isRedisPersistError(new DemoError('broken', 'x'))).toBe(true);
    expect(RedisPersistError.is(new BytesError('corrupt', 'x', { offset: 1 }))).toBe(true);
    expect(isRedisPersistError(new Error('x'))).toBe(false);
    expect(isRedisPersistError(null)).toBe(false);
    expect(isRedisPersistError('x')).toBe(false);
    // What a second copy of @redis-persist/bytes makes: another class, the same global brand.
    const foreignProto = Object.create(Error.prototype) as object;
    Object.defineProperty(foreignProto, Symbol.for('@redis-persist/error'), { value: true });
    const foreign = Object.assign(Object.create(foreignProto) as Error, { code: 'corrupt', kind: 'data' });
    expect(foreign instanceof RedisPersistError).toBe(false);
    expect(isRedisPersistError(foreign)).toBe(true);
  });

  it('BytesError: data, with the offset relative to the input handed in', () => {
    const e = new BytesError('corrupt', 'LZF back reference reads past the compressed data', { offset: 5 });
    expect(e.kind).toBe('data');
    expect(e.offset).toBe(5);
    expect(e.message).toBe('offset 5: LZF back reference reads past the compressed data');
  });
});
