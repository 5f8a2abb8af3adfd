// A seeded random keyspace of every type, in every size class that changes an encoding or a cost: integers
// (shared and not), embstr and raw strings, compressible strings (LZF in the RDB), lists, int-only and mixed sets,
// hashes and sorted sets with short and long members, zsets and hashes shrunk after growing (saved in the big
// encoding, loaded in the small one), streams with consumer groups and pending entries; a third of keys with a TTL.
import type { RedisArg } from '@redis-persist/testkit';
import { seededRandom } from '@redis-persist/testkit';


export function randomKeyspaceCommands(seed: number, keysPerType: number): RedisArg[][] {
  const rnd = seededRandom(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const text = (len: number) => {
    let s = '';
    while (s.length < len) s += Math.floor(rnd() * 36 ** 6).toString(36).padStart(6, '0');
    return s.slice(0, len);
  };
  // lengths skewed small, with a tail: most collections small, some large
  const size = (max: number) => Math.max(1, Math.floor(max * rnd() ** 3));
  const element = (): string => {
    const k = rnd();
    if (k < 0.3) return String(int(-100000, 10_000_000));
    if (k < 0.85) return text(int(1, 20));
    if (k < 0.97) return text(int(21, 80));
    return text(int(81, 400));
  };
  const cmds: RedisArg[][] = [];
  const keyName = (t: string, i: number) => (rnd() < 0.2 ? `${t}:${text(int(30, 60))}:${i}` : `${t}:${i}`);
  const ttl = (key: string) => {
    if (rnd() < 0.33) cmds.push(['PEXPIRE', key, int(10_000_000, 90_000_000)]);
  };
  for (let i = 0; i < keysPerType; i++) {
    // strings
    const sk = keyName('s', i);
    const kind = rnd();
    let v: string;
    if (kind < 0.15) v = String(int(0, 9999));
    else if (kind < 0.25) v = String(int(-(2 ** 40), 2 ** 40));
    else if (kind < 0.55) v = text(int(0, 44));
    else if (kind < 0.7) v = 'ab'.repeat(int(11, 300)); // compressible: LZF in the RDB
    else if (kind < 0.95) v = text(int(45, 600));
    else v = text(int(600, 40000));
    cmds.push(['SET', sk, v]);
    ttl(sk);

    // lists
    const lk = keyName('l', i);
    const ln = size(400);
    const lv: string[] = [];
    for (let j = 0; j < ln; j++) lv.push(element());
    cmds.push(['RPUSH', lk, ...lv]);
    ttl(lk);

    // sets: int-only (intset candidates) or mixed
    const tk = keyName('t', i);
    const tn = size(700);
    const members = new Set<string>();
    const ints = rnd() < 0.5;
    const wide = rnd() < 0.3;
    while (members.size < tn) members.add(ints ? String(wide ? int(-(2 ** 40), 2 ** 40) : int(-30000, 30000)) : element());
    cmds.push(['SADD', tk, ...members]);
    ttl(tk);

    // hashes
    const hk = keyName('h', i);
    const hn = size(300);
    const hv: string[] = [];
    const longValues = rnd() < 0.2;
    for (let j = 0; j < hn; j++) hv.push(`f${j}${text(int(0, 10))}`, longValues && rnd() < 0.3 ? text(int(65, 200)) : element());
    cmds.push(['HSET', hk, ...hv]);
    if (rnd() < 0.2 && hn > 3) for (let j = 0; j < hn - 1; j++) cmds.push(['HDEL', hk, hv[2 * j]]);
    ttl(hk);

    // sorted sets
    const zk = keyName('z', i);
    const zn = size(300);
    const zv: (string | number)[] = [];
    const floats = rnd() < 0.5;
    for (let j = 0; j < zn; j++) zv.push(floats ? rnd() * 1000 : int(-1000, 100000), `m${j}:${element()}`);
    cmds.push(['ZADD', zk, ...zv]);
    // grown past the limit then shrunk: saved as a skiplist, loaded as a listpack under small limits
    if (rnd() < 0.2 && zn > 2) cmds.push(['ZREMRANGEBYRANK', zk, 1, -1]);
    ttl(zk);

    // streams
    if (i % 3 === 0) {
      const xk = keyName('x', i);
      const xn = size(300);
      const fields = pick([['a'], ['temp', 'hum'], ['user', 'event', 'payload']]);
      let ms = 1_700_000_000_000 + int(0, 1e6);
      const ids: string[] = [];
      for (let j = 0; j < xn; j++) {
        ms += int(0, 3) === 0 ? 0 : int(1, 5000);
        const args: string[] = [];
        const sameFields = rnd() < 0.9;
        for (const f of sameFields ? fields : ['other', 'x']) args.push(f, element());
        ids.push(`${ms}-${j}`);
        cmds.push(['XADD', xk, `${ms}-${j}`, ...args]);
      }
      // deleted entries stay in their listpacks, flagged: a few XDELs, and exact trims
      const del = rnd();
      if (del < 0.15 && xn > 3) cmds.push(['XDEL', xk, ...new Set([pick(ids), pick(ids), pick(ids)])]);
      else if (del < 0.25 && xn > 3) cmds.push(['XTRIM', xk, 'MAXLEN', Math.floor(xn / 2)]);
      if (rnd() < 0.5) {
        const groups = int(1, 2);
        for (let g = 0; g < groups; g++) {
          cmds.push(['XGROUP', 'CREATE', xk, `g${g}`, '0']);
          const consumers = int(1, 4);
          for (let c = 0; c < consumers; c++) cmds.push(['XREADGROUP', 'GROUP', `g${g}`, `consumer-${c}`, 'COUNT', int(1, 60), 'STREAMS', xk, '>']);
        }
      }
      ttl(xk);
    }
  }
  return cmds;
}
