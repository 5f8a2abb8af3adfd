// The shared reader of the NX/XX/GT/LT option words, alone and through the commands that take them: each command
// keeps Redis' checks in Redis' order (the same error, or the same effect, as a redis-server 7.0.15).
import { describe, expect, it } from 'vitest';
import { sameKeyspace } from '@redis-persist/keyspace';
import { Replayer } from '@redis-persist/replay';
import { dumpLiveKeyspace, redisAvailable, startRedis } from '@redis-persist/testkit';
import {
  CH, EX, EXAT, GET, GT, INCR, KEEPTTL, LT, NX, PERSIST, PX, PXAT, XX,
  expiryAllowed, leadingOptions, optionBit, stringOptions, trailingOptions,
} from '../src/commands/options.js';

const args = (...s: string[]): Uint8Array[] => s.map((x) => Buffer.from(x, 'latin1'));
const failure = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    return (err as Error).message;
  }
  return 'no failure';
};

describe('option words', () => {
  it('match in any case, only among the allowed ones', () => {
    expect(optionBit(args('nX')[0], NX | XX)).toBe(NX);
    expect(optionBit(args('KeepTTL')[0], KEEPTTL)).toBe(KEEPTTL);
    expect(optionBit(args('gt')[0], NX | XX)).toBe(0);
    expect(optionBit(args('nxx')[0], NX)).toBe(0);
  });

  it('leading words stop at the first other argument, repeats allowed (ZADD, GEOADD)', () => {
    expect(leadingOptions(args('ZADD', 'z', 'ch', 'CH', 'xx', 'incr', '1', 'nx'), 2, NX | XX | GT | LT | CH | INCR)).toEqual({ flags: CH | XX | INCR, next: 6 });
    expect(leadingOptions(args('GEOADD', 'g', 'gt', '1'), 2, NX | XX | CH)).toEqual({ flags: 0, next: 2 });
  });

  it('trailing words must all be words (EXPIRE)', () => {
    expect(trailingOptions(args('EXPIRE', 'k', '1', 'nx', 'GT'), 3, NX | XX | GT | LT, () => 'x')).toBe(NX | GT);
    expect(failure(() => trailingOptions(args('EXPIRE', 'k', '1', 'nx', 'ch'), 3, NX | XX | GT | LT, (o) => `ERR Unsupported option ${Buffer.from(o).toString()}`))).toBe('ERR Unsupported option ch');
  });

  it('SET / GETEX words as parseExtendedStringArgumentsOrReply reads them', () => {
    expect(stringOptions(args('SET', 'k', 'v', 'nx', 'get', 'PX', '5', 'px', '6'), 'set')).toEqual({ flags: NX | GET | PX, expire: args('6')[0] });
    expect(stringOptions(args('GETEX', 'k', 'persist'), 'getex')).toEqual({ flags: PERSIST, expire: null });
    for (const bad of [['nx', 'xx'], ['ex', '1', 'px', '1'], ['keepttl', 'exat', '1'], ['pxat', '1', 'keepttl'], ['ex'], ['persist']]) {
      expect(failure(() => stringOptions(args('SET', 'k', 'v', ...bad), 'set'))).toBe('ERR syntax error');
    }
    for (const bad of [['persist', 'ex', '1'], ['keepttl'], ['nx'], ['get']]) {
      expect(failure(() => stringOptions(args('GETEX', 'k', ...bad), 'getex'))).toBe('ERR syntax error');
    }
    expect(stringOptions(args('GETEX', 'k', 'exat', '1'), 'getex').flags).toBe(EXAT);
    expect(stringOptions(args('SET', 'k', 'v', 'EX', '1'), 'set').flags).toBe(EX);
    expect(stringOptions(args('SET', 'k', 'v', 'pxat', '1'), 'set').flags).toBe(PXAT);
  });

  it('expiry conditions: no expiry counts as infinite', () => {
    expect(expiryAllowed(NX, null, 5)).toBe(true);
    expect(expiryAllowed(NX, 1, 5)).toBe(false);
    expect(expiryAllowed(XX, null, 5)).toBe(false);
    expect(expiryAllowed(GT, null, 5)).toBe(false);
    expect(expiryAllowed(GT, 4, 5)).toBe(true);
    expect(expiryAllowed(LT, null, 5)).toBe(true);
    expect(expiryAllowed(LT, 5, 5)).toBe(false);
    expect(expiryAllowed(XX | GT, 4, 5)).toBe(true);
  });
});

const hasRedis = redisAvailable();
const FS = '4102444800'; // 2100-01-01: absolute times, so both sides hold the same expiry
const FMS = `${FS}000`;
// [setup..., command]: the last command's error (or none) and the keyspace after it must be Redis'.
const cases: string[][][] = [
  [['SET', 'k', 'v', 'EXAT', '0', 'EXAT', FS]],
  [['SET', 'k', 'v', 'EXAT', FS, 'PXAT', FMS]],
  [['SET', 'k', 'v', 'EXAT', '0', 'BOGUS']],
  [['SET', 'k', 'v', 'EXAT', 'abc', 'BOGUS']],
  [['SET', 'k', 'v', 'NX', 'XX']],
  [['SET', 'k', 'v', 'KEEPTTL', 'PXAT', FMS]],
  [['SET', 'k', 'v', 'PXAT']],
  [['SET', 'k', 'v', 'PERSIST']],
  [['SADD', 'k', 'x'], ['SET', 'k', 'v', 'GET']],
  [['SADD', 'k', 'x'], ['SET', 'k', 'v', 'GET', 'EXAT', '0']],
  [['SET', 'k', 'a', 'PXAT', FMS], ['SET', 'k', 'v', 'xx', 'keepttl', 'get']],
  [['SET', 'k', 'a', 'PXAT', FMS], ['GETEX', 'k', 'PERSIST']],
  [['SET', 'k', 'a'], ['GETEX', 'k', 'PXAT', FMS, 'EXAT', FS]],
  [['SET', 'k', 'a'], ['GETEX', 'k', 'PXAT', '1', 'PXAT', FMS]],
  [['SET', 'k', 'a'], ['GETEX', 'k', 'EXAT', '0']],
  [['GETEX', 'k', 'EXAT', 'x']],
  [['SADD', 'k', 'x'], ['GETEX', 'k', 'BOGUS']],
  [['SADD', 'k', 'x'], ['GETEX', 'k', 'EXAT', '0']],
  [['SET', 'k', 'a'], ['GETEX', 'k', 'PERSIST', 'PXAT', FMS]],
  [['SET', 'k', 'a'], ['PEXPIREAT', 'k', FMS, 'NX', 'LT']],
  [['SET', 'k', 'a'], ['PEXPIREAT', 'k', FMS, 'GT', 'LT']],
  [['SET', 'k', 'a'], ['PEXPIREAT', 'k', FMS, 'LT']],
  [['SET', 'k', 'a', 'PXAT', FMS], ['PEXPIREAT', 'k', `${FMS}0`, 'gt', 'XX']],
  [['SET', 'k', 'a'], ['PEXPIREAT', 'k', 'abc', 'BOGUS']],
  [['SET', 'k', 'a'], ['EXPIREAT', 'k', 'abc', 'NX', 'XX']],
  [['ZADD', 'z', 'NX', 'XX', '1', 'a']],
  [['ZADD', 'z', 'GT', 'LT', '1', 'a']],
  [['ZADD', 'z', 'INCR', '1', 'a', '2', 'b']],
  [['ZADD', 'z', '1', 'a'], ['ZADD', 'z', 'gt', 'ch', 'CH', '0', 'a', '5', 'b']],
  [['ZADD', 'z', '1', 'a'], ['ZADD', 'z', 'xx', 'incr', '5', 'a']],
  [['GEOADD', 'g', 'NX', 'XX', '13.36', '38.11', 'p']],
  [['GEOADD', 'g', 'CH', 'NX', '13.36', '38.11', 'p']],
  [['GEOADD', 'g', 'XX', '13.36', '38.11', 'p']],
  [['SETEX', 'k', '0', 'v']],
  [['PSETEX', 'k', '-1', 'v']],
];

describe.skipIf(!hasRedis)('commands with option words answer as redis-server 7.0.15 does', () => {
  it('the same error, or the same keyspace', async () => {
    const server = await startRedis({ config: { save: '' } });
    try {
      const c = server.client;
      for (const cmds of cases) {
        await c.call('FLUSHALL');
        let error: string | null = null;
        for (const cmd of cmds) {
          try {
            await c.call(...cmd);
            error = null;
          } catch (err) {
            error = (err as Error).message;
          }
        }
        const rp = new Replayer();
        for (const cmd of cmds.slice(0, -1)) rp.apply(0, args(...cmd), 'options.aof', 0);
        const before = rp.failed;
        rp.apply(0, args(...cmds[cmds.length - 1]), 'options.aof', 0);
        const label = cmds.map((x) => x.join(' ')).join(' ; ');
        expect({ label, error: rp.failed > before ? rp.failures[rp.failures.length - 1].reason : null }).toEqual({ label, error });
        const same = sameKeyspace([...rp.ks.records()], await dumpLiveKeyspace(c));
        expect({ label, diff: same.diff }).toEqual({ label, diff: [] });
      }
    } finally {
      await server.stop();
    }
  });
});
