/**
 * A click's window (point-prompt.ts): the arrays kept for the next click, the light smoothing the
 * floods run on, and what is read off a window once — the intensities in balls around the clicks,
 * its noise and its range.
 * @module
 */
import type { VoxelArray } from '../../volume/datatype.js';
import { ScratchBuffers } from '../../volume/scratch-buffers.js';
import type { Dims } from '../../volume/volume.js';
import { quantileSorted } from './intensity.js';

/** Axes finer than this are smoothed (coarser ones are averaged enough by the scanner's voxel). */
export const SMOOTH_MAX_SPACING_MM = 1.6;

/**
 * The click window's working arrays (its crop, the two smoothing buffers, the flood's owner and
 * level bytes), kept for the next click: a lung click touched ~150 MB of fresh memory, ~0.4 s of
 * page faults on the benchmark machines (src/volume/scratch-buffers.ts). About 12 bytes a voxel of
 * the largest window so far, at most 512 MiB. The engine runs one request at a time per thread.
 */
export const clickScratch = new ScratchBuffers(512 * 2 ** 20);
const SMOOTHED = ['click-window.smoothed-a', 'click-window.smoothed-b'] as const;

/** Values in a ball of `radiusMm` (at least the 6-neighbourhood) around each point of a window. */
export function sampleBalls(values: ArrayLike<number>, wd: readonly number[], spacing: readonly number[], points: readonly number[], radiusMm: number): Float64Array {
  const r = Math.max(radiusMm, Math.max(...spacing) * 1.01);
  const radii = spacing.map((s) => Math.floor(r / s));
  const out: number[] = [];
  for (const p of points) {
    const k0 = Math.floor(p / (wd[0] * wd[1]));
    const j0 = Math.floor((p - k0 * wd[0] * wd[1]) / wd[0]);
    const i0 = p - wd[0] * (j0 + wd[1] * k0);
    for (let dk = -radii[2]; dk <= radii[2]; dk++) {
      for (let dj = -radii[1]; dj <= radii[1]; dj++) {
        for (let di = -radii[0]; di <= radii[0]; di++) {
          if ((di * spacing[0]) ** 2 + (dj * spacing[1]) ** 2 + (dk * spacing[2]) ** 2 > r * r) continue;
          const i = i0 + di, j = j0 + dj, k = k0 + dk;
          if (i < 0 || j < 0 || k < 0 || i >= wd[0] || j >= wd[1] || k >= wd[2]) continue;
          out.push(values[i + wd[0] * (j + wd[1] * k)]);
        }
      }
    }
  }
  return Float64Array.from(out);
}

/**
 * One binomial [1 2 1]/4 pass along each axis (clamped at the borders): it cuts white noise σ about
 * fourfold, so similar tissues (organs 10 HU apart under 15 HU noise) separate by intensity, at the
 * price of a half-voxel blur of edges.
 */
export function smoothBinomial(sub: VoxelArray, wd: readonly number[], spacing: readonly number[]): Float32Array {
  let cur = clickScratch.array<Float32Array>(SMOOTHED[0], 'float32', sub.length);
  cur.set(sub);
  // Two buffers, passed back and forth: a large window is tens of MB a buffer.
  let spare: Float32Array | undefined;
  const [nx, ny, nz] = wd;
  const strides = [1, nx, nx * ny];
  for (let a = 0; a < 3; a++) {
    if (spacing[a] > SMOOTH_MAX_SPACING_MM || wd[a] < 2) continue;
    const st = strides[a];
    const len = wd[a];
    const next = spare ?? clickScratch.array<Float32Array>(SMOOTHED[1], 'float32', cur.length);
    if (a === 0) {
      for (let start = 0; start < cur.length; start += nx) {
        const last = start + nx - 1;
        next[start] = 0.75 * cur[start] + 0.25 * cur[start + 1];
        next[last] = 0.75 * cur[last] + 0.25 * cur[last - 1];
        for (let p = start + 1; p < last; p++) next[p] = 0.25 * (cur[p - 1] + cur[p + 1]) + 0.5 * cur[p];
      }
    } else {
      // Along y or z the lines are strided: run over whole rows (i fastest) instead, so memory is
      // read in order; each voxel gets the same arithmetic as along its own line.
      const rowsPerBlock = a === 1 ? 1 : ny;
      const blocks = a === 1 ? nz : 1;
      const rowLen = nx * rowsPerBlock; // voxels of one coordinate value on axis a, within one block
      for (let blk = 0; blk < blocks; blk++) {
        const base = blk * nx * ny;
        for (let c = 0; c < len; c++) {
          const off = base + c * st;
          const lo = c === 0 ? 0 : -st;
          const hi = c === len - 1 ? 0 : st;
          if (c === 0 || c === len - 1) {
            const other = c === 0 ? hi : lo;
            for (let p = off; p < off + rowLen; p++) next[p] = 0.75 * cur[p] + 0.25 * cur[p + other];
          } else {
            for (let p = off; p < off + rowLen; p++) next[p] = 0.25 * (cur[p + lo] + cur[p + hi]) + 0.5 * cur[p];
          }
        }
      }
    }
    spare = cur;
    cur = next;
  }
  return cur;
}

/**
 * Positions along an axis of length n, every `step` counted from the nearer end: a set that is its
 * own mirror image, so that a window stored flipped samples the same voxels (a stride from index 0
 * samples others, and the window's noise and range, and with them every tolerance, changed with the
 * way the array runs: the MR example's gallbladder click agreed with itself at 0.947 stored R, A, S).
 */
function mirroredSteps(n: number, step: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (Math.min(i, n - 1 - i) % step === 0) out.push(i);
  return out;
}

/** About how many voxels of a window its noise and range are read from. */
const WINDOW_SAMPLE = 20000;

/**
 * `value(p)` at the voxels p of a window of `wd` on a lattice that is its own mirror image along
 * every axis (mirroredSteps; about WINDOW_SAMPLE of them), in a new array. `pairs`: the lattice's
 * first axis runs over the pairs (i, i + 1), whose mirror starts at wd[0] − 2 − i.
 */
function mirroredSample(wd: Dims, pairs: boolean, value: (p: number) => number): Float64Array {
  const step = Math.max(1, Math.floor(Math.cbrt((wd[0] * wd[1] * wd[2]) / WINDOW_SAMPLE)));
  const is = mirroredSteps(pairs ? wd[0] - 1 : wd[0], step);
  const js = mirroredSteps(wd[1], step);
  const ks = mirroredSteps(wd[2], step);
  const sample = new Float64Array(is.length * js.length * ks.length);
  let t = 0;
  for (const k of ks) {
    for (const j of js) {
      const row = wd[0] * (j + wd[1] * k);
      for (const i of is) sample[t++] = value(row + i);
    }
  }
  return sample;
}

/**
 * The image noise σ in a window: 1.4826 · median |I(p) − I(p+1)| / √2 over neighbours along the
 * first axis, sampled on a lattice that is its own mirror image along every axis (mirroredSample).
 * Differences cancel the anatomy except at edges, which the median ignores; this guards the seed
 * model's σ, which a small ball estimates poorly.
 */
export function windowNoise(sub: ArrayLike<number>, wd: Dims): number {
  if (wd[0] < 2) return 0;
  const diffs = mirroredSample(wd, true, (p) => Math.abs(sub[p + 1] - sub[p])).sort();
  return (1.4826 * quantileSorted(diffs, 0.5)) / Math.SQRT2;
}

/** The 1st–99th percentile spread of a window (sampled as windowNoise is). */
export function windowRange(sub: ArrayLike<number>, wd: Dims): number {
  const sample = mirroredSample(wd, false, (p) => sub[p]).sort();
  return quantileSorted(sample, 0.99) - quantileSorted(sample, 0.01);
}
