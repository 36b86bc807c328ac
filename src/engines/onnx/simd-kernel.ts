/**
 * The stitcher's multiply-add, dst[i] += f32(src[i] · w[i]), as a WebAssembly SIMD kernel over a
 * 2-D block of rows (one window slice into a band). Measured on the benchmark's 96³ windows into a
 * 256 × 256 band: ~1.4 ns per element against ~2.6 ns for the same loop in JavaScript, which V8
 * compiles to scalar code with a float64 round trip per element; the stitching was the largest
 * part of the onnx engine's overhead (bench/onnx.ts).
 *
 * The module is under 300 bytes, assembled below from its instructions rather than shipped as a
 * binary, so it reads and reviews like code. Every buffer it touches lives in one
 * WebAssembly.Memory that the caller sizes once (bump-allocated, 16-byte aligned).
 *
 * Rounding: the product is rounded to float32 before the add, as the JavaScript fallback in
 * stitcher.ts does with Math.fround, so both paths give the same bits.
 * @module
 */
import type { ScratchBuffers } from '../../volume/scratch-buffers.js';
import type { WasmFunction } from '../../volume/wasm-assembler.js';
import { F32, I32, MEM, V128, bump, f32x4add, f32x4gt, f32x4mul, f32x4splat, get, i32, moduleBytes, op, set, v128bitselect, v128load, v128store } from '../../volume/wasm-assembler.js';

/** Largest memory asked of WebAssembly (the JavaScript path takes over above it): 2 GiB. */
const MAX_BYTES = 2 ** 31;
const PAGE = 65536;

export interface KernelMemory {
  /** The whole memory as float32 (views stay valid: the memory never grows after creation). */
  readonly f32: Float32Array;
  /** Reserves `floats` float32s, 16-byte aligned, zeroed; returns their index in `f32`. */
  alloc(floats: number): number;
  /** Frees every reservation, to allocate anew (the memory is kept: keptKernelMemory). */
  reset(): void;
  /**
   * For y < rows, x < cols: f32[dst + y·dstStride + x] += f32(f32[src + y·cols + x] · f32[w + y·cols + x]).
   * Indices are in float32 elements.
   */
  madd(dst: number, src: number, w: number, cols: number, rows: number, dstStride: number): void;
  /**
   * One channel of an argmax, for x < n: where f32[src + x] > f32[best + x] (strictly: ties keep the
   * earlier channel; NaN never wins), best takes it and f32[winner + x] = label. Indices in float32s.
   */
  argmaxStep(best: number, winner: number, src: number, label: number, n: number): void;
}

/**
 * A memory of at least `floats` float32s with the kernel bound to it; undefined where WebAssembly
 * SIMD is not available or the size is beyond MAX_BYTES (the caller keeps plain arrays then).
 * `floats` must include the 16-byte alignment of every later `alloc` (4 floats each).
 */
export function createKernelMemory(floats: number): KernelMemory | undefined {
  const bytes = floats * 4;
  if (bytes > MAX_BYTES || !simdModule()) return undefined;
  let memory: WebAssembly.Memory;
  let instance: WebAssembly.Instance;
  try {
    memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(bytes / PAGE)) });
    instance = new WebAssembly.Instance(simdModule()!, { env: { memory } });
  } catch {
    // Out of address space or memory: the JavaScript path needs the same floats but in pieces.
    return undefined;
  }
  const f32 = new Float32Array(memory.buffer);
  const kernel = instance.exports.madd as (dst: number, src: number, w: number, cols: number, rows: number, dstStride: number) => void;
  const argmax = instance.exports.argmax as (best: number, winner: number, src: number, label: number, n: number) => void;
  let next = 0;
  // Below this index the memory was handed out before and may hold old values; above it, it is
  // still the zeros WebAssembly gave it.
  let used = 0;
  return {
    f32,
    alloc(count) {
      const at = next;
      next = at + Math.ceil(count / 4) * 4;
      if (next > f32.length) throw new RangeError(`Kernel memory of ${f32.length} floats is full (asked ${count} at ${at}).`);
      if (at < used) f32.fill(0, at, Math.min(next, used));
      return at;
    },
    reset() {
      used = Math.max(used, next);
      next = 0;
    },
    madd(dst, src, w, cols, rows, dstStride) {
      kernel(dst * 4, src * 4, w * 4, cols, rows, dstStride * 4);
    },
    argmaxStep(best, winner, src, label, n) {
      argmax(best * 4, winner * 4, src * 4, label, n);
    },
  };
}

/**
 * Kernel memory of at least `floats` float32s kept in `scratch` for the next call (a new one when
 * the kept one is smaller), its allocator reset.
 */
export function keptKernelMemory(scratch: ScratchBuffers, floats: number): KernelMemory | undefined {
  const memory = scratch.object<KernelMemory>('simd-kernel', floats * 4, (kept) => kept.f32.length >= floats, () => createKernelMemory(floats));
  memory?.reset();
  return memory;
}

let compiled: WebAssembly.Module | null | undefined;

/** The compiled module, or null where this runtime has no WebAssembly SIMD. */
function simdModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(moduleBytes([maddFunction(), argmaxFunction()]));
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

// ---- The module, assembled (src/volume/wasm-assembler.ts).

/** madd(dst, src, w, cols, rows, dstStride): byte addresses and stride, element counts. */
function maddFunction(): WasmFunction {
  // Parameters 0–5, then locals 6–10.
  const [DST, SRC, W, COLS, ROWS, STRIDE, ROW_END, VEC_END, D, S, WW] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const rowBytes = [...get(COLS), ...i32(2), op.shl];
  const body = [
    ...op.block, ...op.loop, // rows
    ...get(ROWS), op.eqz, op.brIf, 1,
    ...get(DST), ...set(D), ...get(SRC), ...set(S), ...get(W), ...set(WW),
    ...get(DST), ...get(COLS), ...i32(-4), op.and, ...i32(2), op.shl, op.add, ...set(VEC_END),
    ...get(DST), ...rowBytes, op.add, ...set(ROW_END),
    // Four lanes at a time while a whole vector is left in the row.
    ...op.block, ...op.loop,
    ...get(D), ...get(VEC_END), op.geU, op.brIf, 1,
    ...get(D), ...get(D), ...v128load, ...get(S), ...v128load, ...get(WW), ...v128load, ...f32x4mul, ...f32x4add, ...v128store,
    ...bump(D, 16), ...bump(S, 16), ...bump(WW, 16), op.br, 0,
    op.end, op.end,
    // The row's last cols mod 4 elements one by one.
    ...op.block, ...op.loop,
    ...get(D), ...get(ROW_END), op.geU, op.brIf, 1,
    ...get(D), ...get(D), op.f32load, ...MEM, ...get(S), op.f32load, ...MEM, ...get(WW), op.f32load, ...MEM, op.f32mul, op.f32add, op.f32store, ...MEM,
    ...bump(D, 4), ...bump(S, 4), ...bump(WW, 4), op.br, 0,
    op.end, op.end,
    ...get(DST), ...get(STRIDE), op.add, ...set(DST),
    ...get(SRC), ...rowBytes, op.add, ...set(SRC),
    ...get(W), ...rowBytes, op.add, ...set(W),
    ...get(ROWS), ...i32(1), op.sub, ...set(ROWS),
    op.br, 0,
    op.end, op.end,
  ];
  return { name: 'madd', params: [I32, I32, I32, I32, I32, I32], locals: [I32, I32, I32, I32, I32], body };
}

/** argmax(best, winner, src, label, n): byte addresses, the label as float32, an element count. */
function argmaxFunction(): WasmFunction {
  const [BEST, WIN, SRC, LABEL, N, END, VEND, LV, S, B, M] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const f32load = [op.f32load, ...MEM];
  const body = [
    ...get(BEST), ...get(N), ...i32(2), op.shl, op.add, ...set(END),
    ...get(BEST), ...get(N), ...i32(-4), op.and, ...i32(2), op.shl, op.add, ...set(VEND),
    ...get(LABEL), ...f32x4splat, ...set(LV),
    // Four lanes at a time: mask = src > best, then both planes select by it (no branch).
    ...op.block, ...op.loop,
    ...get(BEST), ...get(VEND), op.geU, op.brIf, 1,
    ...get(SRC), ...v128load, ...set(S),
    ...get(BEST), ...v128load, ...set(B),
    ...get(S), ...get(B), ...f32x4gt, ...set(M),
    ...get(BEST), ...get(S), ...get(B), ...get(M), ...v128bitselect, ...v128store,
    ...get(WIN), ...get(LV), ...get(WIN), ...v128load, ...get(M), ...v128bitselect, ...v128store,
    ...bump(BEST, 16), ...bump(WIN, 16), ...bump(SRC, 16), op.br, 0,
    op.end, op.end,
    // The last n mod 4 one by one, with `select`.
    ...op.block, ...op.loop,
    ...get(BEST), ...get(END), op.geU, op.brIf, 1,
    ...get(WIN), ...get(LABEL), ...get(WIN), ...f32load, ...get(SRC), ...f32load, ...get(BEST), ...f32load, op.f32gt, op.select, op.f32store, ...MEM,
    ...get(BEST), ...get(SRC), ...f32load, ...get(BEST), ...f32load, ...get(SRC), ...f32load, ...get(BEST), ...f32load, op.f32gt, op.select, op.f32store, ...MEM,
    ...bump(BEST, 4), ...bump(WIN, 4), ...bump(SRC, 4), op.br, 0,
    op.end, op.end,
  ];
  return { name: 'argmax', params: [I32, I32, I32, F32, I32], locals: [I32, I32, V128, V128, V128, V128], body };
}
