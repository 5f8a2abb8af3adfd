// Writes src/crc64-wasm.ts: the bytes of a small WebAssembly module computing CRC-64/Jones by slicing (8 or 16
// bytes per step), assembled here by hand (no toolchain). Run `node packages/bytes/scripts/gen-crc64-wasm.mjs`
// after editing; the generated file is committed.
//
// Memory layout (the module owns its memory, exported as "mem"): the tables at 0 (16 slices x 256 x 8 bytes,
// filled from JavaScript at start-up),
// the CRC state at STATE (8 bytes, little-endian), the input window at INPUT (1 MiB).
// Exports: s8(ptr: i32, len: i32) and s16(...): feed mem[INPUT+ptr..INPUT+ptr+len) to the CRC at STATE (no BigInt
// crosses the boundary).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const STATE = 32768;
const INPUT = 65536;
const INPUT_SIZE = 1 << 20;
const PAGES = (INPUT + INPUT_SIZE) / 65536;

const uleb = (n) => {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const sleb = (n) => {
  const out = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
};
const vec = (items) => [...uleb(items.length), ...items.flat()];
const section = (id, body) => [id, ...uleb(body.length), ...body];
const str = (s) => vec([...Buffer.from(s)]);

// opcodes
const get = (i) => [0x20, ...uleb(i)];
const set = (i) => [0x21, ...uleb(i)];
const i32c = (n) => [0x41, ...sleb(n)];
const I32_ADD = 0x6a, I32_AND = 0x71, I32_SHL = 0x74, I32_SHR_U = 0x76, I32_GE_U = 0x4f;
const I32_WRAP = 0xa7, I64_XOR = 0x85, I64_SHR_U = 0x88, I64_CONST = 0x42;
const load64 = (offset) => [0x29, 3, ...uleb(offset)];
const load8 = (offset) => [0x2d, 0, ...uleb(offset)];
const BLOCK = [0x02, 0x40], LOOP = [0x03, 0x40], END = 0x0b;
const br = (d) => [0x0c, d], brIf = (d) => [0x0d, d];

// Table t's entry for byte `byte` (0 = lowest) of the i32 in local `w`: i64.load offset=t*2048 (byte << 3)
const lk = (w, byte, t) => {
  const s = byte * 8;
  let idx;
  if (byte === 0) idx = [...get(w), ...i32c(3), I32_SHL, ...i32c(0x7f8), I32_AND];
  else if (byte === 3) idx = [...get(w), ...i32c(24), I32_SHR_U, ...i32c(3), I32_SHL];
  else idx = [...get(w), ...i32c(s - 3), I32_SHR_U, ...i32c(0x7f8), I32_AND];
  return [...idx, ...load64(t * 2048)];
};

// params: 0 ptr i32, 1 len i32; locals: 2 crc i64, 3 end i32, 4 a i32, 5 b i32, 6 c i32, 7 d i32
const PTR = 0, LEN = 1, CRC = 2, END_ = 3;
function body(slices) {
  const step = slices;
  const code = [];
  code.push(...i32c(0), ...load64(STATE), ...set(CRC));
  // end = ptr + len - (len % step)
  code.push(...get(PTR), ...get(LEN), ...i32c(-step), I32_AND, I32_ADD, ...set(END_));
  code.push(...BLOCK, ...LOOP);
  code.push(...get(PTR), ...get(END_), I32_GE_U, ...brIf(1));
  // v = load64(ptr) ^ crc; a = lo, b = hi
  code.push(...get(PTR), ...load64(INPUT), ...get(CRC), I64_XOR, ...set(CRC));
  code.push(...get(CRC), I32_WRAP, ...set(4), ...get(CRC), ...[I64_CONST, 32], I64_SHR_U, I32_WRAP, ...set(5));
  if (slices === 16) {
    code.push(...get(PTR), ...load64(INPUT + 8), ...set(CRC));
    code.push(...get(CRC), I32_WRAP, ...set(6), ...get(CRC), ...[I64_CONST, 32], I64_SHR_U, I32_WRAP, ...set(7));
  }
  const parts = [];
  const words = slices === 16 ? [4, 5, 6, 7] : [4, 5];
  words.forEach((w, wi) => {
    for (let byte = 0; byte < 4; byte++) parts.push(lk(w, byte, slices - 1 - (wi * 4 + byte)));
  });
  code.push(...parts[0]);
  for (let k = 1; k < parts.length; k++) code.push(...parts[k], I64_XOR);
  code.push(...set(CRC));
  code.push(...get(PTR), ...i32c(step), I32_ADD, ...set(PTR));
  code.push(...br(0), END, END);
  // tail: end = ptr + (len % step)
  code.push(...get(LEN), ...i32c(step - 1), I32_AND, ...get(PTR), I32_ADD, ...set(END_));
  code.push(...BLOCK, ...LOOP);
  code.push(...get(PTR), ...get(END_), I32_GE_U, ...brIf(1));
  // crc = T0[(crc ^ byte) & 0xff] ^ (crc >> 8)
  code.push(...get(CRC), I32_WRAP, ...get(PTR), ...load8(INPUT), 0x73 /* i32.xor */, ...i32c(0xff), I32_AND, ...i32c(3), I32_SHL, ...load64(0));
  code.push(...get(CRC), ...[I64_CONST, 8], I64_SHR_U, I64_XOR, ...set(CRC));
  code.push(...get(PTR), ...i32c(1), I32_ADD, ...set(PTR));
  code.push(...br(0), END, END);
  code.push(...i32c(0), ...get(CRC), 0x37, 3, ...uleb(STATE) /* i64.store */, END);
  const locals = vec([[1, 0x7e], [5, 0x7f]].map(([n, t]) => [...uleb(n), t]));
  const fn = [...locals, ...code];
  return [...uleb(fn.length), ...fn];
}

const bytes = [
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, vec([[0x60, ...vec([[0x7f], [0x7f]]), ...vec([])]])),
  ...section(3, vec([[0], [0]])),
  ...section(5, vec([[0x00, ...uleb(PAGES)]])),
  ...section(7, vec([[...str('mem'), 0x02, 0], [...str('s8'), 0x00, 0], [...str('s16'), 0x00, 1]])),
  ...section(10, vec([body(8), body(16)])),
];
new WebAssembly.Module(Uint8Array.from(bytes)); // validates

const b64 = Buffer.from(bytes).toString('base64');
const out = `// Generated by scripts/gen-crc64-wasm.mjs: do not edit (edit the script and run it again).
// A WebAssembly module for CRC-64/Jones by slicing; see the script for its layout and exports.
export const CRC64_WASM_BASE64 = '${b64}';
export const CRC64_WASM_STATE = ${STATE};
export const CRC64_WASM_INPUT = ${INPUT};
export const CRC64_WASM_INPUT_SIZE = ${INPUT_SIZE};
`;
writeFileSync(fileURLToPath(new URL('../src/crc64-wasm.ts', import.meta.url)), out);
console.log(`${bytes.length} bytes of WebAssembly written to src/crc64-wasm.ts`);
