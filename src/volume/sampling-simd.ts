/**
 * WebAssembly kernels for the common cases of sampling.ts, output axes along the source's own axes
 * (flips allowed, no permutation), clamped at the edge. V8 runs the JavaScript loops of sampling.ts
 * at ~2.5–3 ns per element (a float64 round trip and bounds checks per load).
 *
 * Nearest neighbour of uint8 label maps (an engine's labels back onto the input grid): per output
 * slice, the source slice is copied into kernel memory (once while consecutive slices need it) and
 * each output row gathered from its source row through the offset table (~1 ns per voxel).
 *
 * Trilinear to float32 (how an engine brings a CT to its model's spacing), per output slice:
 *
 * 1. the two source slices it lies between are converted to float32 into kernel memory (each
 *    source slice once for consecutive output slices) and blended in k, four lanes at a time;
 * 2. per output row, the two rows of that plane are blended in j (four lanes at a time), then
 *    interpolated in i through the offset and weight tables (one lane: a gather);
 * 3. the finished plane is copied out.
 *
 * Arithmetic is float32 (weights rounded to float32), blends as a + w·(b − a), so a constant region
 * stays exactly constant; results differ from sampling.ts's float64 path by float32 rounding (a
 * few float32 steps of the image's range: a weight's rounding times a neighbour difference). The
 * kernel memory is a few planes: it stays in cache.
 * @module
 */
import type { VoxelArray } from './datatype.js';
import type { LinearTable } from './sampling.js';
import type { Dims } from './volume.js';
import type { WasmFunction } from './wasm-assembler.js';
import { F32, I32, MEM, V128, bump, f32x4add, f32x4mul, f32x4splat, f32x4sub, get, i32, moduleBytes, op, set, v128load, v128store } from './wasm-assembler.js';

const PAGE = 65536;

/**
 * Fills `out` (float32, outDims, i fastest; output slices k0 ≤ k < k1) from `source` with the
 * given tables (clamped: no negative offsets), axis a of the output along axis a of the source.
 * False where WebAssembly SIMD is not available: the caller uses its own loop then.
 */
export function linearSimd(source: VoxelArray, sourceDims: Dims, out: Float32Array, outDims: Dims, [k0, k1]: readonly [number, number], tables: readonly LinearTable[]): boolean {
  const [nx, ny] = sourceDims;
  const [m0, m1] = outDims;
  const plane = nx * ny;
  const kernel = instantiate(3 * plane + nx + m0 * m1 + 3 * m0);
  if (!kernel) return false;
  const { f32, i32v, lerp, gather } = kernel;
  // Float32 indices into the kernel memory.
  const slotAt = [0, plane];
  const tmpAt = 2 * plane;
  const rowAt = 3 * plane;
  const outAt = rowAt + nx;
  const xLowerAt = outAt + m0 * m1;
  const xUpperAt = xLowerAt + m0;
  const xWeightAt = xUpperAt + m0;
  const [xt, yt, zt] = tables;
  for (let i = 0; i < m0; i++) {
    // Byte offsets from the start of the row.
    i32v[xLowerAt + i] = xt.lower[i] * 4;
    i32v[xUpperAt + i] = xt.upper[i] * 4;
    f32[xWeightAt + i] = xt.weight[i];
  }
  // Which source slice each of the two slots holds; a slice is converted once while it is needed.
  const held = [-1, -1];
  const load = (z: number, keep: number): number => {
    const found = held.indexOf(z);
    if (found >= 0) return slotAt[found];
    const slot = held[0] === keep ? 1 : 0;
    held[slot] = z;
    f32.set(source.subarray(z * plane, (z + 1) * plane), slotAt[slot]);
    return slotAt[slot];
  };
  for (let k = k0; k < k1; k++) {
    const za = zt.lower[k] / plane;
    const zb = zt.upper[k] / plane;
    const a = load(za, zb);
    const b = load(zb, za);
    lerp(tmpAt * 4, a * 4, b * 4, zt.weight[k], plane);
    for (let j = 0; j < m1; j++) {
      lerp(rowAt * 4, (tmpAt + yt.lower[j]) * 4, (tmpAt + yt.upper[j]) * 4, yt.weight[j], nx);
      gather((outAt + j * m0) * 4, rowAt * 4, xLowerAt * 4, xUpperAt * 4, xWeightAt * 4, m0);
    }
    out.set(f32.subarray(outAt, outAt + m0 * m1), k * m0 * m1);
  }
  return true;
}

/**
 * Fills `out` (uint8, outDims; output slices k0 ≤ k < k1) from the uint8 `source` by nearest
 * neighbour, `offsets` per axis the source offsets (in that axis' stride, none negative), axis a of
 * the output along axis a of the source. False where WebAssembly is not available.
 */
export function nearestBytesSimd(source: Uint8Array, sourceDims: Dims, out: Uint8Array, outDims: Dims, [k0, k1]: readonly [number, number], offsets: readonly Int32Array[]): boolean {
  const [nx, ny] = sourceDims;
  const [m0, m1] = outDims;
  const plane = nx * ny;
  // Bytes: the source slice, the output slice, then the i offsets (int32, 4-aligned).
  const outAt = plane;
  const tableAt = Math.ceil((outAt + m0 * m1) / 4) * 4;
  const kernel = instantiate(Math.ceil((tableAt + 4 * m0) / 4));
  if (!kernel) return false;
  const bytes = new Uint8Array(kernel.f32.buffer);
  kernel.i32v.set(offsets[0], tableAt / 4);
  let held = -1;
  for (let k = k0; k < k1; k++) {
    const z = offsets[2][k] / plane;
    if (z !== held) {
      bytes.set(source.subarray(z * plane, (z + 1) * plane), 0);
      held = z;
    }
    for (let j = 0; j < m1; j++) kernel.gatherBytes(outAt + j * m0, offsets[1][j], tableAt, m0);
    out.set(bytes.subarray(outAt, outAt + m0 * m1), k * m0 * m1);
  }
  return true;
}

interface Kernel {
  readonly f32: Float32Array;
  readonly i32v: Int32Array;
  readonly lerp: (dst: number, a: number, b: number, w: number, n: number) => void;
  readonly gather: (dst: number, row: number, lower: number, upper: number, weight: number, m: number) => void;
  readonly gatherBytes: (dst: number, row: number, offsets: number, m: number) => void;
}

/** The last instance, reused while its memory is large enough (one per thread: module state). */
let kept: { readonly kernel: Kernel; readonly floats: number } | undefined;

/** Kernel memory of at least `floats` float32s (the kept one when large enough). */
function instantiate(floats: number): Kernel | undefined {
  if (kept && kept.floats >= floats) return kept.kernel;
  const module = linearModule();
  if (!module) return undefined;
  try {
    const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil((floats * 4) / PAGE)) });
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    const kernel: Kernel = {
      f32: new Float32Array(memory.buffer),
      i32v: new Int32Array(memory.buffer),
      lerp: instance.exports.lerp as Kernel['lerp'],
      gather: instance.exports.gather as Kernel['gather'],
      gatherBytes: instance.exports.gatherBytes as Kernel['gatherBytes'],
    };
    kept = { kernel, floats };
    return kernel;
  } catch {
    return undefined;
  }
}

let compiled: WebAssembly.Module | null | undefined;

/** The compiled module, or null where this runtime has no WebAssembly SIMD. */
function linearModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(moduleBytes([lerpFunction(), gatherFunction(), gatherBytesFunction()]));
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

const i32load = [op.i32load, ...MEM];

/** lerp(dst, a, b, w, n): dst[x] = a[x] + w·(b[x] − a[x]) for x < n (byte addresses, element count). */
function lerpFunction(): WasmFunction {
  const [DST, A, B, W, N, END, VEND, WV] = [0, 1, 2, 3, 4, 5, 6, 7];
  const blend = (load: number[], sub: number[], mul: number[], add: number[], w: number[]): number[] => [
    ...get(DST),
    ...get(A), ...load,
    ...w, ...get(B), ...load, ...get(A), ...load, ...sub, ...mul,
    ...add,
  ];
  const f32load = [op.f32load, ...MEM];
  return {
    name: 'lerp',
    params: [I32, I32, I32, F32, I32],
    locals: [I32, I32, V128],
    body: [
      ...get(DST), ...get(N), ...i32(2), op.shl, op.add, ...set(END),
      ...get(DST), ...get(N), ...i32(-4), op.and, ...i32(2), op.shl, op.add, ...set(VEND),
      ...get(W), ...f32x4splat, ...set(WV),
      ...op.block, ...op.loop,
      ...get(DST), ...get(VEND), op.geU, op.brIf, 1,
      ...blend(v128load, f32x4sub, f32x4mul, f32x4add, get(WV)), ...v128store,
      ...bump(DST, 16), ...bump(A, 16), ...bump(B, 16), op.br, 0,
      op.end, op.end,
      ...op.block, ...op.loop,
      ...get(DST), ...get(END), op.geU, op.brIf, 1,
      ...blend(f32load, [op.f32sub], [op.f32mul], [op.f32add], get(W)), op.f32store, ...MEM,
      ...bump(DST, 4), ...bump(A, 4), ...bump(B, 4), op.br, 0,
      op.end, op.end,
    ],
  };
}

/**
 * gather(dst, row, lower, upper, weight, m): for x < m, with lo = i32 lower[x] and hi = i32 upper[x]
 * (byte offsets into the row) and w = f32 weight[x]: dst[x] = row@lo + w·(row@hi − row@lo).
 */
function gatherFunction(): WasmFunction {
  const [DST, ROW, LO, HI, WT, M, END, A] = [0, 1, 2, 3, 4, 5, 6, 7];
  return {
    name: 'gather',
    params: [I32, I32, I32, I32, I32, I32],
    locals: [I32, F32],
    body: [
      ...get(DST), ...get(M), ...i32(2), op.shl, op.add, ...set(END),
      ...op.block, ...op.loop,
      ...get(DST), ...get(END), op.geU, op.brIf, 1,
      ...get(DST),
      ...get(ROW), ...get(LO), ...i32load, op.add, op.f32load, ...MEM, op.tee, A,
      ...get(WT), op.f32load, ...MEM,
      ...get(ROW), ...get(HI), ...i32load, op.add, op.f32load, ...MEM, ...get(A), op.f32sub,
      op.f32mul, op.f32add, op.f32store, ...MEM,
      ...bump(DST, 4), ...bump(LO, 4), ...bump(HI, 4), ...bump(WT, 4), op.br, 0,
      op.end, op.end,
    ],
  };
}

/** gatherBytes(dst, row, offsets, m): dst[x] = row[i32 offsets[x]] for x < m, bytes (addresses in bytes). */
function gatherBytesFunction(): WasmFunction {
  const [DST, ROW, OFF, M, END] = [0, 1, 2, 3, 4];
  return {
    name: 'gatherBytes',
    params: [I32, I32, I32, I32],
    locals: [I32],
    body: [
      ...get(DST), ...get(M), op.add, ...set(END),
      ...op.block, ...op.loop,
      ...get(DST), ...get(END), op.geU, op.brIf, 1,
      ...get(DST), ...get(ROW), ...get(OFF), ...i32load, op.add, op.i32load8u, 0, 0, op.i32store8, 0, 0,
      ...bump(DST, 1), ...bump(OFF, 4), op.br, 0,
      op.end, op.end,
    ],
  };
}
