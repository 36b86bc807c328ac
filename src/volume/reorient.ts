/**
 * Reorientation to a canonical axis order (RAS by default) by permuting and flipping voxel axes:
 * no interpolation, every voxel kept bit for bit, and an exact way back for whatever an engine
 * computes on the reoriented grid.
 *
 * Each voxel axis goes to the world axis `axisCodes` assigns it (the one it is nearest to), so an
 * oblique image is permuted to the nearest orientation, never resampled: its result is still
 * oblique, with axis codes equal to the target.
 * @module
 */
import type { Affine, AxisCode, Vec3 } from './affine.js';
import { axisCodes, multiply } from './affine.js';
import type { VoxelArray } from './datatype.js';
import { VoxelArrayOf, dataTypeOf } from './datatype.js';
import { VoxgateError } from '../errors.js';
import type { Dims, Volume } from './volume.js';
import { createVolume, sliceRange, voxelCount } from './volume.js';

export type Orientation = readonly [AxisCode, AxisCode, AxisCode];

/** i → Right, j → Anterior, k → Superior: NIfTI's and nibabel's canonical orientation. */
export const RAS: Orientation = Object.freeze(['R', 'A', 'S'] as const);

type AxisTriple<T> = readonly [T, T, T];

/** World axis (0 x, 1 y, 2 z) and direction (+1 or -1) of an axis code. */
const CODE_AXES: Record<AxisCode, readonly [number, 1 | -1]> = {
  R: [0, 1], L: [0, -1], A: [1, 1], P: [1, -1], S: [2, 1], I: [2, -1],
};

/**
 * A permutation and flip of voxel axes, between an input grid and an output grid:
 * output axis a is input axis `permutation[a]`, running backwards when `flips[a]`, so output index
 * o and input index p satisfy p[permutation[a]] = flips[a] ? inputDims[permutation[a]] − 1 − o[a] : o[a].
 *
 * Plain fields: a copy sent to a worker thread (structured clone keeps the fields, not the
 * methods) is rebuilt with `new OrientationTransform(t.permutation, t.flips, t.inputDims)`.
 */
export class OrientationTransform {
  readonly permutation: AxisTriple<number>;
  readonly flips: AxisTriple<boolean>;
  readonly inputDims: Dims;
  readonly outputDims: Dims;
  /** Output voxel index → input voxel index, the matrix P with outputAffine = inputAffine · P. */
  readonly outputToInput: Affine;
  /** Input voxel index → output voxel index (P⁻¹). */
  readonly inputToOutput: Affine;

  constructor(permutation: AxisTriple<number>, flips: AxisTriple<boolean>, inputDims: Dims) {
    if (permutation.length !== 3 || [0, 1, 2].some((r) => !permutation.includes(r))) {
      throw new RangeError(`Axis permutation [${permutation.join(', ')}] is not a permutation of 0, 1, 2.`);
    }
    if (inputDims.length !== 3 || inputDims.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new VoxgateError('VXG_ERR_VOLUME_HEADER', `Image dimensions ${inputDims.join('×')} are not positive integers.`);
    }
    this.permutation = [permutation[0], permutation[1], permutation[2]];
    this.flips = [Boolean(flips[0]), Boolean(flips[1]), Boolean(flips[2])];
    this.inputDims = [inputDims[0], inputDims[1], inputDims[2]];
    this.outputDims = [inputDims[permutation[0]], inputDims[permutation[1]], inputDims[permutation[2]]];
    const p = new Array<number>(16).fill(0);
    const q = new Array<number>(16).fill(0);
    p[15] = q[15] = 1;
    for (let a = 0; a < 3; a++) {
      const r = this.permutation[a];
      const sign = this.flips[a] ? -1 : 1;
      const shift = this.flips[a] ? inputDims[r] - 1 : 0;
      p[r * 4 + a] = sign;
      p[r * 4 + 3] = shift;
      q[a * 4 + r] = sign;
      q[a * 4 + 3] = shift;
    }
    this.outputToInput = p;
    this.inputToOutput = q;
  }

  /** No permutation, no flip: input and output grids are the same. */
  get isIdentity(): boolean {
    return this.permutation.every((r, a) => r === a) && !this.flips.some(Boolean);
  }

  /**
   * The output grid's affine: inputAffine · P. Same world position for the same voxel; exact when
   * the entries and dims are exactly representable products (integers, halves …), within an ulp of
   * the translation otherwise.
   */
  outputAffine(inputAffine: Affine): Affine {
    return multiply(inputAffine, this.outputToInput).map((v) => (v === 0 ? 0 : v));
  }

  /** The input grid's affine from the output's: outputAffine · P⁻¹. */
  inputAffine(outputAffine: Affine): Affine {
    return multiply(outputAffine, this.inputToOutput).map((v) => (v === 0 ? 0 : v));
  }

  /**
   * Voxels in input layout → output layout: a new array of the same type, or `into` (same type and
   * length, another buffer; reused working memory) filled and returned. Values are moved as raw
   * bits, so NaN payloads and -0 survive and `invert(apply(x))` equals `x` byte for byte.
   * @example
   * const t = orientationTransform(ct.dims, ct.affine);
   * const ras = t.apply(ct.data);
   */
  apply<T extends VoxelArray>(data: T, into?: T): T {
    return this.#move(data, this.inputDims, false, into);
  }

  /**
   * Voxels in output layout (e.g. a Uint8Array label map computed on the reoriented grid) → input
   * layout: a new array of the type given, or `into` filled and returned (as for `apply`).
   * `slices` [k0, k1): only the voxels of output slices k0 ≤ k < k1 move (the rest of `into` is
   * untouched), to share the work between threads.
   * @example
   * const labelsOnInput = transform.invert(labelsOnRas);
   */
  invert<T extends VoxelArray>(data: T, into?: T, slices?: readonly [number, number]): T {
    return this.#move(data, this.outputDims, true, into, slices);
  }

  /** Input voxel index (i, j, k) → output voxel index; continuous indices map the same way. */
  toOutputIndex(p: Vec3): [number, number, number] {
    const o: [number, number, number] = [0, 0, 0];
    for (let a = 0; a < 3; a++) {
      const r = this.permutation[a];
      o[a] = this.flips[a] ? this.inputDims[r] - 1 - p[r] : p[r];
    }
    return o;
  }

  /** Output voxel index → input voxel index. */
  toInputIndex(o: Vec3): [number, number, number] {
    const p: [number, number, number] = [0, 0, 0];
    for (let a = 0; a < 3; a++) {
      const r = this.permutation[a];
      p[r] = this.flips[a] ? this.inputDims[r] - 1 - o[a] : o[a];
    }
    return p;
  }

  #move<T extends VoxelArray>(data: T, expected: Dims, scatter: boolean, into?: T, slices?: readonly [number, number]): T {
    if (data.length !== voxelCount(expected)) {
      throw new VoxgateError(
        'VXG_ERR_VOLUME_GRID_MISMATCH',
        `Voxel array has ${data.length} voxels but the ${scatter ? 'reoriented' : 'input'} grid ${expected.join('×')} needs ${voxelCount(expected)}.`,
      );
    }
    if (into && (into.length !== data.length || dataTypeOf(into) !== dataTypeOf(data) || into.buffer === data.buffer)) {
      throw new RangeError(`The array to reorient into must be a separate ${dataTypeOf(data)} array of ${data.length} voxels.`);
    }
    const [k0, k1] = sliceRange(slices, this.outputDims[2]);
    const out = into ?? (new VoxelArrayOf[dataTypeOf(data)](data.length) as T);
    if (this.isIdentity) {
      const plane = this.outputDims[0] * this.outputDims[1];
      if (k1 > k0) out.set(data.subarray(k0 * plane, k1 * plane), k0 * plane);
      return out;
    }
    // Walk the output grid in memory order; the input index moves by a fixed step per output axis.
    const [n0, n1] = this.inputDims;
    const strides = [1, n0, n0 * n1];
    let base = 0;
    const steps = [0, 0, 0];
    for (let a = 0; a < 3; a++) {
      const r = this.permutation[a];
      steps[a] = this.flips[a] ? -strides[r] : strides[r];
      if (this.flips[a]) base += (this.inputDims[r] - 1) * strides[r];
    }
    const from = bitsOf(data);
    const to = bitsOf(out);
    const lanes = data.BYTES_PER_ELEMENT === 8 ? 2 : 1;
    moveBits(from, to, lanes, this.outputDims, [k0, k1], base, steps, scatter);
    return out;
  }
}

/**
 * How to bring a grid with affine `affine` to `target` orientation (no voxels touched).
 * @example
 * orientationTransform([512, 512, 300], lpsAffine).flips; // [true, true, false]
 */
export function orientationTransform(dims: Dims, affine: Affine, target: Orientation = RAS): OrientationTransform {
  const wanted = parseOrientation(target);
  const current = axisCodes(affine).map((code) => CODE_AXES[code]);
  const permutation = [0, 0, 0];
  const flips = [false, false, false];
  for (let a = 0; a < 3; a++) {
    // axisCodes gives each voxel axis a different world axis, so exactly one input axis matches.
    const r = current.findIndex(([axis]) => axis === wanted[a][0]);
    permutation[a] = r;
    flips[a] = current[r][1] !== wanted[a][1];
  }
  return new OrientationTransform(permutation as unknown as AxisTriple<number>, flips as unknown as AxisTriple<boolean>, dims);
}

export interface ReorientOptions {
  /**
   * Copy the voxels even when the volume already has the target orientation. Without it, that case
   * returns the input volume object itself (`result.volume === volume`, same `data`): an engine
   * that writes into or transfers (detaches) `result.volume.data` then changes the input too.
   */
  readonly copy?: boolean;
  /**
   * Where to move the voxels when they move (reused working memory: the input's type and length,
   * another buffer). Unused when the volume already has the target orientation and `copy` is off.
   */
  readonly into?: VoxelArray;
}

export interface ReorientResult<T extends VoxelArray> {
  readonly volume: Volume<T>;
  readonly transform: OrientationTransform;
}

/**
 * Permutes and flips the voxel axes of `volume` so that they point as close as possible to
 * `target` (default RAS). The affine changes so that every voxel keeps its world position
 * (newAffine = oldAffine · P); the source geometry becomes `derived` unless nothing moved.
 * @example
 * const { volume: ras, transform } = reorient(ct);
 * const labels = await engine(ras);                    // Uint8Array on the RAS grid
 * const onInput = transform.invert(labels);            // same layout as ct.data
 */
export function reorient<T extends VoxelArray>(volume: Volume<T>, target: Orientation = RAS, options: ReorientOptions = {}): ReorientResult<T> {
  const transform = orientationTransform(volume.dims, volume.affine, target);
  if (transform.isIdentity) {
    if (!options.copy) return { volume, transform };
    return { volume: createVolume(volume.dims, transform.apply(volume.data, options.into as T | undefined), volume.affine, volume.source), transform };
  }
  const source = volume.source.description === undefined
    ? { format: 'derived' as const }
    : { format: 'derived' as const, description: volume.source.description };
  const reoriented = createVolume(transform.outputDims, transform.apply(volume.data, options.into as T | undefined), transform.outputAffine(volume.affine), source);
  return { volume: reoriented, transform };
}

function parseOrientation(target: Orientation): AxisTriple<readonly [number, 1 | -1]> {
  const axes = Array.isArray(target) && target.length === 3 ? target.map((code) => CODE_AXES[code]) : [];
  if (axes.length !== 3 || axes.some((a) => a === undefined) || new Set(axes.map(([axis]) => axis)).size !== 3) {
    throw new RangeError(`Orientation ${JSON.stringify(target)} must name each world axis once, e.g. ['R', 'A', 'S'] or ['L', 'P', 'S'].`);
  }
  return axes as unknown as AxisTriple<readonly [number, 1 | -1]>;
}

type Bits = Uint8Array | Uint16Array | Uint32Array;

/** An unsigned view of the same bytes, so values move as bits (no float canonicalisation). */
function bitsOf(a: VoxelArray): Bits {
  switch (a.BYTES_PER_ELEMENT) {
    case 1: return new Uint8Array(a.buffer, a.byteOffset, a.length);
    case 2: return new Uint16Array(a.buffer, a.byteOffset, a.length);
    default: return new Uint32Array(a.buffer, a.byteOffset, a.byteLength / 4);
  }
}

/**
 * For every output voxel o (in memory order), input index = base + Σ steps[a]·o[a]; copies input →
 * output (gather) or, with `scatter`, output → input, for output slices k0 ≤ k < k1. `lanes` 32-bit
 * words per voxel (2 for float64).
 */
function moveBits(from: Bits, to: Bits, lanes: number, outDims: Dims, [k0, k1]: readonly [number, number], base: number, steps: readonly number[], scatter: boolean): void {
  const [m0, m1] = outDims;
  const [s0, s1, s2] = steps;
  let o = k0 * m0 * m1;
  for (let k = k0; k < k1; k++) {
    for (let j = 0; j < m1; j++, o += m0) {
      const start = base + s1 * j + s2 * k;
      if (s0 === 1) {
        // Rows stay contiguous: one block copy.
        if (scatter) to.set(from.subarray(o * lanes, (o + m0) * lanes), start * lanes);
        else to.set(from.subarray(start * lanes, (start + m0) * lanes), o * lanes);
      } else if (s0 === -1 && lanes === 1) {
        // A flipped row (LPS → RAS, LIA → RAS …): a block copy reversed in place, by the engine's
        // native reverse rather than an element loop that sees three array types.
        if (scatter) {
          to.set(from.subarray(o, o + m0), start - m0 + 1);
          to.subarray(start - m0 + 1, start + 1).reverse();
        } else {
          to.set(from.subarray(start - m0 + 1, start + 1), o);
          to.subarray(o, o + m0).reverse();
        }
      } else if (lanes === 1) {
        let idx = start;
        if (scatter) for (let i = 0; i < m0; i++, idx += s0) to[idx] = from[o + i];
        else for (let i = 0; i < m0; i++, idx += s0) to[o + i] = from[idx];
      } else {
        let idx = start * 2;
        const step = s0 * 2;
        let w = o * 2;
        if (scatter) {
          for (let i = 0; i < m0; i++, idx += step, w += 2) {
            to[idx] = from[w];
            to[idx + 1] = from[w + 1];
          }
        } else {
          for (let i = 0; i < m0; i++, idx += step, w += 2) {
            to[w] = from[idx];
            to[w + 1] = from[idx + 1];
          }
        }
      }
    }
  }
}
