/**
 * A few lines of WebAssembly assembler for the SIMD kernels (src/engines/onnx/simd-kernel.ts,
 * sampling-simd.ts): encodings, opcodes and a module of functions over one imported memory, so a
 * kernel reads and reviews as its instructions instead of shipping as a binary.
 * Opcodes from the WebAssembly core spec (§5.4) and its fixed-width SIMD extension.
 * @module
 */

export const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
};

export const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
};

const vector = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const name = (s: string): number[] => [...uleb(s.length), ...Buffer.from(s, 'utf8')];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

/** Value types. */
export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;

export const op = {
  block: [0x02, 0x40], loop: [0x03, 0x40], end: 0x0b, br: 0x0c, brIf: 0x0d,
  get: 0x20, set: 0x21, tee: 0x22, select: 0x1b, i32const: 0x41, eqz: 0x45, geU: 0x4f, add: 0x6a, sub: 0x6b, and: 0x71, shl: 0x74,
  i32load: 0x28, f32load: 0x2a, i32load8u: 0x2d, i32store8: 0x3a, f32store: 0x38, f32gt: 0x5e, f32add: 0x92, f32sub: 0x93, f32mul: 0x94,
} as const;

/** Memory immediates: alignment hint 2^2 (float32), offset 0. */
export const MEM = [2, 0];
const simd = (code: number): number[] => [0xfd, ...uleb(code)];
export const v128load = [...simd(0x00), ...MEM];
export const v128store = [...simd(0x0b), ...MEM];
export const f32x4splat = simd(0x13);
export const f32x4add = simd(0xe4);
export const f32x4sub = simd(0xe5);
export const f32x4mul = simd(0xe6);
export const f32x4gt = simd(0x44);
/** (a, b, mask) → a where mask bits are set, b elsewhere. */
export const v128bitselect = simd(0x52);

/** Local variable access and small arithmetic, as instruction bytes. */
export const get = (i: number): number[] => [op.get, i];
export const set = (i: number): number[] => [op.set, i];
export const i32 = (n: number): number[] => [op.i32const, ...sleb(n)];
/** local i += n */
export const bump = (i: number, n: number): number[] => [...get(i), ...i32(n), op.add, ...set(i)];

export interface WasmFunction {
  readonly name: string;
  readonly params: readonly number[];
  /** Extra locals (after the parameters), by type. */
  readonly locals: readonly number[];
  /** Instructions, without the final `end`. */
  readonly body: readonly number[];
}

/**
 * A module importing `env.memory` (at least one page) and exporting `functions`, each returning
 * nothing.
 */
export function moduleBytes(functions: readonly WasmFunction[]): Uint8Array {
  const types = functions.map((f) => [0x60, ...vector(f.params.map((t) => [t])), 0]);
  const bodies = functions.map((f) => {
    const code = [...vector(f.locals.map((t) => [1, t])), ...f.body, op.end];
    return [...uleb(code.length), ...code];
  });
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector(types)),
    ...section(2, vector([[...name('env'), ...name('memory'), 0x02, 0x00, 1]])),
    ...section(3, vector(functions.map((_, n) => uleb(n)))),
    ...section(7, vector(functions.map((f, n) => [...name(f.name), 0x00, ...uleb(n)]))),
    ...section(10, vector(bodies)),
  ]);
}
