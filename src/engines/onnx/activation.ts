/**
 * From blended scores to label indices, one final slice at a time (a SliceSink for the stitcher).
 *
 * - softmax: the label of the channel with the highest blended score. Softmax is monotonic and
 *   every channel of a voxel shares one weight sum, so argmax(softmax(Σw·s / Σw)) = argmax(Σw·s):
 *   neither the softmax nor the division is computed. Ties go to the lower channel (numpy's argmax).
 * - sigmoid: each channel is on where its probability exceeds the threshold, i.e. Σw·s > t·Σw with
 *   t = logit(threshold) for logits (the threshold itself for probabilities). Where several are
 *   on, the channel with the highest probability wins (ties: the lower channel); none on: 0.
 *
 * Class prompts act here: a channel whose label was not asked for writes 0. For softmax it still
 * takes part in the argmax (a voxel that is most likely an unrequested class is not relabelled as
 * the best requested one); for sigmoid it is not even accumulated (the caller leaves it out).
 * @module
 */
import type { Dims } from '../../volume/volume.js';
import type { SliceSink } from './stitcher.js';
import type { Box } from './windows.js';

export interface LabelSinkOptions {
  /** Label map on the model grid, written where the region lies inside the grid. */
  readonly labels: Uint8Array;
  readonly grid: Dims;
  readonly region: Box;
  readonly activation: 'softmax' | 'sigmoid';
  /** Per accumulated channel, the label to write (0: background or not requested). */
  readonly channelLabels: readonly number[];
  /** Sigmoid only: the per-voxel bound on the blended score, in score units (logit or probability). */
  readonly threshold?: number;
}

/**
 * @example
 * const sink = labelSink({ labels, grid: dims, region, activation: 'softmax', channelLabels: [0, 133, 134] });
 */
export function labelSink(options: LabelSinkOptions): SliceSink {
  const { labels, grid, region, channelLabels } = options;
  const [bx, by] = region.size;
  const plane = bx * by;
  const best = new Float32Array(plane);
  const winner = new Uint8Array(plane);
  const lut = Uint8Array.from(channelLabels);
  const sigmoid = options.activation === 'sigmoid';
  const threshold = options.threshold ?? 0;
  // Region columns and rows that fall inside the grid.
  const x0 = Math.max(0, -region.start[0]);
  const x1 = Math.min(bx, grid[0] - region.start[0]);
  const y0 = Math.max(0, -region.start[1]);
  const y1 = Math.min(by, grid[1] - region.start[1]);
  return (k, channels, weightSum, rows = [0, by], kernel) => {
    const gz = region.start[2] + k;
    // Rows that are both final and inside the grid.
    const r0 = Math.max(y0, rows[0]);
    const r1 = Math.min(y1, rows[1]);
    if (gz < 0 || gz >= grid[2] || x1 <= x0 || r1 <= r0) return;
    const first = r0 * bx;
    const end = r1 * bx;
    // Where the winning labels of this plane end up: `winner`, or a plane in kernel memory.
    let winners: Uint8Array | Float32Array = winner;
    let at0 = 0;
    if (sigmoid) {
      best.fill(-Infinity, first, end);
      winner.fill(0, first, end);
      for (let c = 0; c < channels.length; c++) {
        const v = channels[c];
        const label = lut[c];
        for (let p = first; p < end; p++) {
          const s = v[p];
          const bound = weightSum ? threshold * weightSum[p] : threshold;
          if (s > bound && s > best[p]) {
            best[p] = s;
            winner[p] = label;
          }
        }
      }
    } else if (kernel && channels.every((v) => v.buffer === kernel.memory.f32.buffer)) {
      // The channels are in kernel memory: the argmax there, four voxels at a time, same result.
      const { memory } = kernel;
      const f32 = memory.f32;
      const at = (v: Float32Array): number => v.byteOffset / 4;
      f32.copyWithin(kernel.best + first, at(channels[0]) + first, at(channels[0]) + end);
      f32.fill(lut[0], kernel.winner + first, kernel.winner + end);
      for (let c = 1; c < channels.length; c++) memory.argmaxStep(kernel.best + first, kernel.winner + first, at(channels[c]) + first, lut[c], end - first);
      // Float32 labels (0–255, exact): the copy into the uint8 map below converts them.
      winners = f32;
      at0 = kernel.winner;
    } else {
      best.set(channels[0].subarray(first, end), first);
      winner.fill(lut[0], first, end);
      for (let c = 1; c < channels.length; c++) {
        const v = channels[c];
        const label = lut[c];
        for (let p = first; p < end; p++) {
          if (v[p] > best[p]) {
            best[p] = v[p];
            winner[p] = label;
          }
        }
      }
    }
    const [nx, ny] = grid;
    for (let y = r0; y < r1; y++) {
      const to = (gz * ny + region.start[1] + y) * nx + region.start[0];
      labels.set(winners.subarray(at0 + y * bx + x0, at0 + y * bx + x1), to + x0);
    }
  };
}
