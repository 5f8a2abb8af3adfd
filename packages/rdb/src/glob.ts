// Redis glob matching (the rules of util.c stringmatchlen), on raw bytes: `*`, `?`, `[abc]`, `[^a]`, `[a-z]`, `\x`.

export function globMatch(pattern: Uint8Array, s: Uint8Array): boolean {
  return match(pattern, 0, s, 0, 0);
}

function match(p: Uint8Array, pi: number, s: Uint8Array, si: number, depth: number): boolean {
  if (depth > 1000) return false;
  const plen = p.length;
  const slen = s.length;
  while (pi < plen && si <= slen) {
    const c = p[pi];
    if (c === 0x2a /* * */) {
      while (pi + 1 < plen && p[pi + 1] === 0x2a) pi++;
      if (pi + 1 === plen) return true;
      for (let k = si; k <= slen; k++) if (match(p, pi + 1, s, k, depth + 1)) return true;
      return false;
    }
    if (si >= slen) return false;
    if (c === 0x3f /* ? */) {
      si++;
    } else if (c === 0x5b /* [ */) {
      pi++;
      const not = p[pi] === 0x5e;
      if (not) pi++;
      let matched = false;
      for (;;) {
        if (pi >= plen) {
          pi--;
          break;
        }
        if (p[pi] === 0x5c && pi + 1 < plen) {
          pi++;
          if (p[pi] === s[si]) matched = true;
        } else if (p[pi] === 0x5d) {
          break;
        } else if (pi + 2 < plen && p[pi + 1] === 0x2d) {
          let lo = p[pi];
          let hi = p[pi + 2];
          if (lo > hi) [lo, hi] = [hi, lo];
          if (s[si] >= lo && s[si] <= hi) matched = true;
          pi += 2;
        } else if (p[pi] === s[si]) {
          matched = true;
        }
        pi++;
      }
      if (not) matched = !matched;
      if (!matched) return false;
      si++;
    } else {
      let ch = c;
      if (c === 0x5c && pi + 1 < plen) {
        pi++;
        ch = p[pi];
      }
      if (ch !== s[si]) return false;
      si++;
    }
    pi++;
  }
  while (pi < plen && p[pi] === 0x2a) pi++;
  return pi === plen && si === slen;
}
