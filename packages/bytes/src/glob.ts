// Redis' glob matching over bytes, with the semantics of `stringmatchlen` in src/util.c of a Redis carrying the
// CVE-2022-36021 fix (7.0.9+) and the CVE-2024-31228 nesting limit (7.2.6+, backported e.g. to Debian's 7.0.15),
// as used by KEYS and SCAN MATCH. Written from a reading of that behaviour, not a copy of it.
//
// Syntax: `*` (any run, possibly empty), `?` (one byte), `[...]` / `[^...]` (one byte in / not in the set; `a-z`
// ranges), `\x` (the byte x). The odd corners that Redis has and we keep:
//   - The whole pattern `*` matches every key, the empty one included (KEYS/SCAN never call the matcher for it),
//     but otherwise an empty subject matches only the empty pattern (`**` does not match `''`): trailing `*`s
//     are dropped only once at least one subject byte was consumed.
//   - In a class, `\x` is the byte x compared exactly (case-sensitively even with nocase); a `\` that is the last
//     pattern byte is a literal `\`. `]` ends the class only when it is not escaped and not the end of a range.
//   - A range is any `x-y` with y present: `[a-]` is the range `a`..`]` (the class then runs to the pattern end),
//     `[-a]` is `-` and `a`, `[z-a]` is `a`..`z` (ends are swapped). Range ends and the subject byte compare as
//     SIGNED chars (x86 C), so `[a-\xff]` is -1..0x61: NUL..`a` and 0xff, but not 0x80..0xfe. With nocase the ends
//     are lowercased after the swap, and so is the subject byte.
//   - A class that is never closed runs to the end of the pattern: `[ab` is `[ab]`, `[^` matches any one byte,
//     and `[` alone never matches.
//   - A trailing `\` outside a class is a literal `\`.
//   - nocase folds ASCII A-Z only (C locale tolower).
//   - Give-up rules of the fixed Redis: once the part after a `*` fails to match from every remaining position,
//     the whole match fails (no earlier `*` is retried with a longer run; this loses no matches). And a pattern
//     that needs more than 1000 `*` runs (not counting one that ends the pattern) never matches once the 1001st
//     is reached with subject bytes left.
//
// Matching is iterative: only the latest `*` is ever backtracked (that is exactly what the give-up rule allows),
// so the cost is O(|pattern| * |subject|) at worst and no memory is allocated.

const STAR = 0x2a;
const QUESTION = 0x3f;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const CARET = 0x5e;
const DASH = 0x2d;
const BACKSLASH = 0x5c;

/** Runs of `*` a match may pass through before Redis gives up (its recursion nesting limit). */
const MAX_STAR_RUNS = 1000;

/** C `tolower` in the C locale, on a byte or a signed char value. */
const lower = (c: number) => (c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
/** A byte as a signed char (x86 `char`). */
const signed = (b: number) => (b << 24) >> 24;

/**
 * The class whose items start at `p[at]` (after `[` and any `^`) against byte `b`. Returns `end * 2 + hit`: `end`
 * is the index of the class' last pattern byte (its `]`, or the pattern's last byte when it is never closed), `hit`
 * is 1 when `b` is in the set (before `^` is applied). One number, so nothing is allocated.
 */
function matchClass(p: Uint8Array, at: number, b: number, nocase: boolean): number {
  const n = p.length;
  let i = at;
  let hit = false;
  for (;;) {
    const c = i < n ? p[i] : -1;
    if (c === BACKSLASH && n - i >= 2) {
      i++;
      if (p[i] === b) hit = true;
    } else if (c === CLOSE) {
      break;
    } else if (i >= n) {
      i = n - 1; // never closed: the class ends with the pattern
      break;
    } else if (n - i >= 3 && p[i + 1] === DASH) {
      let lo = signed(c);
      let hi = signed(p[i + 2]);
      if (lo > hi) {
        const t = lo;
        lo = hi;
        hi = t;
      }
      let x = signed(b);
      if (nocase) {
        lo = lower(lo);
        hi = lower(hi);
        x = lower(x);
      }
      if (x >= lo && x <= hi) hit = true;
      i += 2;
    } else if (nocase ? lower(c) === lower(b) : c === b) {
      hit = true;
    }
    i++;
  }
  return i * 2 + (hit ? 1 : 0);
}

/** True when `subject` matches the Redis glob `pattern` (both bytes), exactly as KEYS/SCAN MATCH decide it. */
export function matchGlob(pattern: Uint8Array, subject: Uint8Array, nocase = false): boolean {
  const p = pattern;
  const s = subject;
  const pn = p.length;
  const sn = s.length;
  if (pn === 1 && p[0] === STAR) return true; // KEYS/SCAN short-cut: all keys, the empty one too

  let pi = 0;
  let si = 0;
  let backP = -1; // pattern index just after the latest `*` run, -1 before any
  let backS = 0; // subject index the latest `*` run's current attempt resumes at
  let runs = 0; // `*` runs passed on the way here

  for (;;) {
    let ok = true;
    if (pi < pn && si < sn) {
      const c = p[pi];
      if (c === STAR) {
        while (pi + 1 < pn && p[pi + 1] === STAR) pi++;
        if (pi === pn - 1) return true; // a final `*` takes the rest
        if (++runs > MAX_STAR_RUNS) return false;
        backP = pi + 1;
        backS = si;
        pi = backP;
        continue;
      }
      const b = s[si];
      if (c === QUESTION) {
        // any byte
      } else if (c === OPEN) {
        let at = pi + 1;
        const not = at < pn && p[at] === CARET;
        if (not) at++;
        // (`[` as the very last byte: an empty class that ends at the `[` itself)
        const r = matchClass(p, at, b, nocase);
        pi = Math.floor(r / 2);
        ok = r % 2 === 1 ? !not : not;
      } else {
        let lit = c;
        if (c === BACKSLASH && pn - pi >= 2) lit = p[++pi];
        ok = nocase ? lower(lit) === lower(b) : lit === b;
      }
      if (ok) {
        pi++;
        si++;
        if (si < sn) continue;
        while (pi < pn && p[pi] === STAR) pi++; // subject used up: trailing `*`s match nothing
        if (pi === pn) return true;
        ok = false;
      }
    } else {
      ok = pi === pn && si === sn;
      if (ok) return true;
    }
    // This attempt failed: let the latest `*` take one more byte, or give up when it cannot.
    if (backP < 0) return false;
    if (++backS >= sn) return false;
    pi = backP;
    si = backS;
  }
}
