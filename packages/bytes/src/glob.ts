// Redis' glob matching (src/util.c stringmatchlen) over bytes: `*`, `?`, `[abc]`, `[^a-z]`, and `\` escapes.

/** True when `subject` matches the Redis glob `pattern` (both bytes). */
export function matchGlob(pattern: Uint8Array, subject: Uint8Array, nocase = false): boolean {
  return matchAt(pattern, 0, subject, 0, nocase, 0);
}

const lower = (c: number) => (c >= 0x41 && c <= 0x5a ? c + 0x20 : c);

function matchAt(p: Uint8Array, pi: number, s: Uint8Array, si: number, nocase: boolean, depth: number): boolean {
  if (depth > 1000) return false; // as Redis, give up on pathological nesting
  while (pi < p.length) {
    const c = p[pi];
    if (c === 0x2a) {
      while (pi + 1 < p.length && p[pi + 1] === 0x2a) pi++;
      if (pi + 1 === p.length) return true;
      for (let k = si; k <= s.length; k++) if (matchAt(p, pi + 1, s, k, nocase, depth + 1)) return true;
      return false;
    }
    if (si >= s.length) return false;
    if (c === 0x3f) {
      si++;
      pi++;
      continue;
    }
    if (c === 0x5b) {
      pi++;
      const not = p[pi] === 0x5e;
      if (not) pi++;
      let matched = false;
      for (;;) {
        if (pi >= p.length) {
          pi--; // unterminated class: Redis treats the end as the class end
          break;
        }
        if (p[pi] === 0x5c && pi + 2 < p.length) {
          pi++;
          if (p[pi] === s[si]) matched = true;
        } else if (p[pi] === 0x5d) {
          break;
        } else if (pi + 2 < p.length && p[pi + 1] === 0x2d) {
          let start = p[pi];
          let end = p[pi + 2];
          const ch = nocase ? lower(s[si]) : s[si];
          if (start > end) [start, end] = [end, start];
          if (nocase) {
            start = lower(start);
            end = lower(end);
          }
          pi += 2;
          if (ch >= start && ch <= end) matched = true;
        } else if (nocase ? lower(p[pi]) === lower(s[si]) : p[pi] === s[si]) {
          matched = true;
        }
        pi++;
      }
      if (not) matched = !matched;
      if (!matched) return false;
      si++;
      pi++;
      continue;
    }
    let lit = c;
    if (c === 0x5c && pi + 1 < p.length) lit = p[++pi];
    if (nocase ? lower(lit) !== lower(s[si]) : lit !== s[si]) return false;
    si++;
    pi++;
  }
  return si === s.length;
}
