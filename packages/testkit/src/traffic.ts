import type { RespValue } from '@redis-persist/resp';
import { seededRandom } from './test-files.js';
import type { RedisArg, RedisClient } from './client.js';

export type TrafficType = 'string' | 'list' | 'set' | 'zset' | 'hash' | 'stream';
const ALL_TYPES: readonly TrafficType[] = ['string', 'list', 'set', 'zset', 'hash', 'stream'];

export interface RandomTrafficOptions {
  /** Same seed, same commands (and, on an empty server, the same keyspace up to stream consumer/delivery times). */
  seed: number;
  /** How many commands to generate (MULTI/EXEC and SELECT not counted). */
  commands: number;
  /** Databases to write to. Default [0]. */
  dbs?: number[];
  /** Occasionally FLUSHDB / FLUSHALL. Default false. */
  flushAll?: boolean;
  /** Wrap some runs of commands in MULTI/EXEC. Default false. */
  multi?: boolean;
  /** Set absolute expiries (years ahead, so nothing lapses during a test). Default false. */
  expiries?: boolean;
  /** Value types to write. Default all of string, list, set, zset, hash, stream. */
  types?: readonly string[];
  /** Keys per type. Default 16. */
  keysPerType?: number;
  /**
   * Also send commands whose effect depends on the clock or on randomness, the ones an AOF must rewrite
   * (Redis propagates them in a deterministic form): relative EXPIRE/PEXPIRE/SETEX/GETEX (TTLs of years),
   * SPOP, XADD with `*` IDs. The keyspace then differs between runs (expiry times, popped members, IDs);
   * compare a server's AOF/RDB with that same server, not with another run. Default false.
   */
  nondeterministic?: boolean;
}


/** First stream ID ms used; each generated command advances it, so explicit IDs always increase. */
const STREAM_BASE_MS = 1_600_000_000_000;
/** Expiry times lie from here on: 2036-01-01, far enough that nothing lapses. */
const FUTURE_BASE_MS = Date.UTC(2036, 0, 1);

/** Error replies that mean the generator itself is wrong (the others are expected, e.g. WRONGTYPE, NOGROUP). */
const GENERATOR_BUG = /^ERR (syntax error|wrong number of arguments|unknown command|unknown subcommand)/i;

class Generator {
  private readonly r: () => number;
  private step = 0;
  private readonly types: TrafficType[];
  private readonly keysPerType: number;
  private readonly hfe: boolean;

  constructor(
    private readonly o: RandomTrafficOptions,
    hfe: boolean,
  ) {
    this.r = seededRandom(o.seed);
    const types = (o.types ?? ALL_TYPES).filter((t): t is TrafficType => (ALL_TYPES as readonly string[]).includes(t));
    if (types.length === 0) throw new Error(`randomTraffic: no known type in ${JSON.stringify(o.types)}`);
    this.types = types;
    this.keysPerType = o.keysPerType ?? 16;
    this.hfe = hfe;
  }

  int(n: number): number {
    return Math.floor(this.r() * n);
  }
  chance(p: number): boolean {
    return this.r() < p;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }

  key(type: TrafficType): RedisArg {
    // Fewer streams, so groups, consumers and pending entries pile up on each.
    const n = this.int(type === 'stream' ? Math.max(2, this.keysPerType >> 2) : this.keysPerType);
    // A few keys are binary, to exercise non-UTF-8 key bytes.
    if (type === 'string' && n === 0) return Uint8Array.from([0x73, 0x3a, 0xff, 0x00, 0x80, 0x0a]);
    return `${type}:${n}`;
  }

  value(): RedisArg {
    switch (this.int(9)) {
      case 0:
        return String(this.int(1000) - 500);
      case 1:
        return this.pick(['9223372036854775807', '-9223372036854775808', '4294967296', '0', '12345678901']);
      case 2:
        return `é-${this.int(1000)}-✓`;
      case 3: {
        const b = new Uint8Array(1 + this.int(24));
        for (let i = 0; i < b.length; i++) b[i] = this.int(256);
        return b;
      }
      case 4:
        return 'x'.repeat(60 + this.int(200));
      case 5:
        return '';
      default:
        return `v${this.int(5000)}`;
    }
  }

  member(): RedisArg {
    return this.chance(0.5) ? String(this.int(200)) : `m${this.int(60)}`;
  }

  score(): RedisArg {
    switch (this.int(8)) {
      case 0:
        return 'inf';
      case 1:
        return '-inf';
      case 2:
        return String((this.int(2000) - 1000) / 8 + 0.1);
      case 3:
        return '0.1';
      default:
        return String(this.int(100) - 50);
    }
  }

  expireAt(): number {
    return FUTURE_BASE_MS + this.int(10 * 365 * 24) * 3_600_000 + this.int(3_600_000);
  }

  streamId(): string {
    return `${STREAM_BASE_MS + this.step}-${this.int(4)}`;
  }

  /** An ID that may exist: mostly recent ones, so XACK/XCLAIM/XDEL hit something now and then. */
  pastStreamId(): string {
    const back = this.chance(0.8) ? this.int(Math.min(this.step, 300) + 1) : this.int(this.step + 1);
    return `${STREAM_BASE_MS + this.step - back}-${this.int(4)}`;
  }

  /** One data command (no MULTI/SELECT). */
  command(): RedisArg[] {
    this.step++;
    const o = this.o;
    const dbs = o.dbs ?? [0];
    const roll = this.r();
    if (o.flushAll && roll < 0.002) return ['FLUSHALL'];
    if (o.flushAll && roll < 0.006) return ['FLUSHDB'];
    const type = this.pick(this.types);
    const k = this.key(type);
    if (roll < 0.03) return ['DEL', k];
    if (roll < 0.04) return ['RENAME', k, this.key(type)];
    if (dbs.length > 1 && roll < 0.05) return ['MOVE', k, this.pick(dbs)];
    if (o.expiries && roll < 0.12) {
      switch (this.int(4)) {
        case 0:
          return ['EXPIREAT', k, Math.floor(this.expireAt() / 1000)];
        case 1:
          return ['PERSIST', k];
        default:
          return ['PEXPIREAT', k, this.expireAt()];
      }
    }
    if (o.nondeterministic && this.chance(0.06)) {
      const ttl = 3600 * 24 * 365 * 5 + this.int(3600 * 24 * 365);
      switch (type) {
        case 'set':
          return ['SPOP', k, ...(this.chance(0.5) ? [1 + this.int(3)] : [])];
        case 'stream':
          return ['XADD', k, ...(this.chance(0.3) ? ['MAXLEN', 50] : []), '*', 'f', this.value()];
        case 'string':
          if (this.chance(0.3)) return ['SETEX', k, ttl, this.value()];
          if (this.chance(0.5)) return ['GETEX', k, 'PX', ttl * 1000];
          break;
      }
      return this.chance(0.5) ? ['EXPIRE', k, ttl] : ['PEXPIRE', k, ttl * 1000];
    }
    if (this.chance(0.03)) {
      // Deterministic commands that Redis propagates differently from how they were called.
      switch (type) {
        case 'string':
          return this.chance(0.5)
            ? ['INCRBYFLOAT', k, String((this.int(200) - 100) / 4)]
            : ['EVAL', "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('APPEND', KEYS[2], ARGV[1])", 2, k, this.key('string'), this.value()];
        case 'list':
          return ['LMOVE', k, this.key('list'), this.pick(['LEFT', 'RIGHT']), this.pick(['LEFT', 'RIGHT'])];
        case 'set':
          return [this.pick(['SINTERSTORE', 'SUNIONSTORE', 'SDIFFSTORE']), this.key('set'), k, this.key('set')];
        case 'zset':
          return [this.pick(['ZUNIONSTORE', 'ZINTERSTORE']), this.key('zset'), 2, k, this.key('zset')];
        case 'hash':
          return ['HINCRBYFLOAT', k, `fl${this.int(3)}`, String((this.int(200) - 100) / 8)];
        case 'stream':
          return ['COPY', k, this.key('stream'), 'REPLACE'];
      }
    }
    const big = this.chance(0.04);
    switch (type) {
      case 'string':
        switch (this.int(8)) {
          case 0:
            return ['INCRBY', k, this.int(1000) - 500];
          case 1:
            return ['APPEND', k, this.value()];
          case 2:
            return ['SETRANGE', k, this.int(20), this.value()];
          case 3:
            return o.expiries ? ['SET', k, this.value(), 'PXAT', this.expireAt()] : ['SET', k, this.value()];
          case 4:
            return ['MSET', this.key('string'), this.value(), this.key('string'), this.value()];
          default:
            return ['SET', k, this.value()];
        }
      case 'list':
        if (big) return ['RPUSH', k, ...Array.from({ length: 130 + this.int(100) }, () => this.value())];
        switch (this.int(9)) {
          case 0:
            return ['LPOP', k];
          case 1:
            return ['RPOP', k, 1 + this.int(3)];
          case 2:
            return ['LSET', k, this.int(6) - 3, this.value()];
          case 3:
            return ['LTRIM', k, this.int(3), 20 + this.int(200)];
          case 4:
            return ['LINSERT', k, this.pick(['BEFORE', 'AFTER']), this.value(), this.value()];
          case 5:
            return ['LREM', k, this.int(3) - 1, this.value()];
          case 6:
            return ['LPUSH', k, this.value(), this.value()];
          default:
            return ['RPUSH', k, ...Array.from({ length: 1 + this.int(5) }, () => this.value())];
        }
      case 'set':
        if (big) {
          // Integers only: past set-max-intset-entries (512) the intset becomes a hashtable.
          if (this.chance(0.5)) return ['SADD', k, ...Array.from({ length: 400 + this.int(300) }, () => this.int(100000) - 50000)];
          return ['SADD', k, ...Array.from({ length: 150 }, () => this.value())];
        }
        switch (this.int(6)) {
          case 0:
            return ['SREM', k, this.member(), this.member()];
          case 1:
            return ['SMOVE', k, this.key('set'), this.member()];
          case 2:
            return ['SADD', k, this.value()];
          default:
            // Integer members keep small sets as intsets.
            return ['SADD', k, ...Array.from({ length: 1 + this.int(4) }, () => (this.chance(0.7) ? String(this.int(1_000_000) - 500_000) : this.member()))];
        }
      case 'zset':
        if (big) return ['ZADD', k, ...Array.from({ length: 140 }, (_, i) => [this.score(), `big${i}:${this.int(1000)}`]).flat()];
        switch (this.int(6)) {
          case 0:
            return ['ZREM', k, this.member()];
          case 1:
            return ['ZINCRBY', k, this.int(10) - 5, this.member()];
          case 2:
            return ['ZREMRANGEBYRANK', k, 0, this.int(3)];
          default:
            return ['ZADD', k, ...Array.from({ length: 1 + this.int(3) }, () => [this.score(), this.member()]).flat()];
        }
      case 'hash':
        if (big) return ['HSET', k, ...Array.from({ length: 140 }, (_, i) => [`bf${i}`, this.value()]).flat()];
        if (this.hfe && o.expiries && this.chance(0.1)) return ['HPEXPIREAT', k, this.expireAt(), 'FIELDS', 1, `f${this.int(12)}`];
        switch (this.int(6)) {
          case 0:
            return ['HDEL', k, `f${this.int(12)}`];
          case 1:
            return ['HINCRBY', k, `n${this.int(3)}`, this.int(100) - 50];
          case 2:
            return ['HSETNX', k, `f${this.int(12)}`, this.value()];
          default:
            return ['HSET', k, `f${this.int(12)}`, this.value(), `f${this.int(12)}`, this.value()];
        }
      case 'stream': {
        const g = `g${this.int(2)}`;
        const c = `c${this.int(2)}`;
        const op = this.int(100);
        if (op < 8) return ['XGROUP', 'CREATE', k, g, this.pick(['0', '$']), 'MKSTREAM'];
        if (op < 28) return ['XREADGROUP', 'GROUP', g, c, 'COUNT', 1 + this.int(3), 'STREAMS', k, '>'];
        if (op < 34) return ['XACK', k, g, this.pastStreamId()];
        if (op < 40) return ['XCLAIM', k, g, c, 0, this.pastStreamId()];
        if (op < 45) return ['XDEL', k, this.pastStreamId()];
        if (op < 48) return ['XTRIM', k, 'MAXLEN', 5 + this.int(20)];
        if (op < 52) return ['XGROUP', 'CREATECONSUMER', k, g, `c${2 + this.int(2)}`];
        if (op < 54) return ['XGROUP', 'DELCONSUMER', k, g, `c${2 + this.int(2)}`];
        if (op < 57) return ['XGROUP', 'SETID', k, g, this.pick(['0', '$', this.pastStreamId()])];
        if (big) return ['XADD', k, this.streamId(), ...Array.from({ length: 20 }, (_, i) => [`k${i}`, this.value()]).flat()];
        return this.chance(0.5)
          ? ['XADD', k, this.streamId(), 'f', this.value(), 'g', this.value()]
          : ['XADD', k, this.streamId(), this.pick(['a', 'f']), this.value()];
      }
    }
  }
}

function checkReplies(cmds: RedisArg[][], replies: RespValue[]): void {
  replies.forEach((v, i) => {
    const inner = v.type === 'array' && v.value !== null ? v.value : [v];
    for (const x of inner) {
      if (x.type === 'error' && GENERATOR_BUG.test(x.value)) {
        const name = cmds[i].map((a) => (a instanceof Uint8Array ? '<bytes>' : String(a))).slice(0, 6).join(' ');
        throw new Error(`randomTraffic: "${name}" was refused: ${x.value}`);
      }
    }
  });
}

async function supportsHashFieldTtl(client: RedisClient): Promise<boolean> {
  const info = (await client.callText('INFO', 'server')) ?? '';
  const m = /redis_version:(\d+)\.(\d+)/.exec(info);
  return m !== null && (Number(m[1]) > 7 || (Number(m[1]) === 7 && Number(m[2]) >= 4));
}

/**
 * Deterministic random writes over every data type (see {@link RandomTrafficOptions}). Commands go out in
 * pipelined batches; expected error replies (WRONGTYPE, NOGROUP, no such key...) are part of the traffic.
 * Leaves the client on db 0.
 */
export async function randomTraffic(client: RedisClient, options: RandomTrafficOptions): Promise<void> {
  const gen = new Generator(options, await supportsHashFieldTtl(client));
  const dbs = options.dbs ?? [0];
  const batch: RedisArg[][] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const cmds = batch.splice(0);
    checkReplies(cmds, await client.pipeline(cmds));
  };
  batch.push(['SELECT', dbs[0]]);
  let done = 0;
  while (done < options.commands) {
    if (dbs.length > 1 && gen.chance(0.05)) batch.push(['SELECT', gen.pick(dbs)]);
    if (options.multi && gen.chance(0.05)) {
      const n = Math.min(2 + gen.int(5), options.commands - done);
      batch.push(['MULTI']);
      for (let i = 0; i < n; i++) batch.push(gen.command());
      batch.push(['EXEC']);
      done += n;
    } else {
      batch.push(gen.command());
      done++;
    }
    if (batch.length >= 500) await flush();
  }
  batch.push(['SELECT', 0]);
  await flush();
}
