/**
 * One vertebra out of the spine's bone (a click labelled as a vertebra, point-prompt.ts). The
 * skeleton joins the vertebrae through the discs' bony rims and the ribs' joints, so the bone piece
 * under such a click is the spine with the ribs' heads. The discs are found along the column under
 * the click: in the axial slices through a vertebral body, the bone covers the whole disc of
 * BODY_RADIUS_MM around the click; at a disc only the endplates' rim and the arch do (patient C:
 * T12's body 1.00 in every slice, the discs above and below 0.57 and 0.31–0.59). The vertebra is the
 * piece between the nearest slice below and the nearest above where that cover falls under
 * DISC_COVER, within PROCESS_REACH_MM of the click across the column (the ribs leave the spine
 * there), its component under the click. A click whose own slice is not covered (in an arch, or in
 * a body the bone does not fill) finds no column: the piece is left as it is.
 *
 * Patient C, a click in T12's body: Dice 0.573 for the spine's piece → 0.678 (the posterior arch of
 * T11, which lies beside T12's body, stays: the cut is by slices).
 * @module
 */
import type { Dims } from '../../volume/volume.js';
import { selectComponents } from './components.js';
import { stridesOf, voxelCoords } from './grid.js';
import { planeAxes } from './slices.js';

/** Radius (mm) of the disc around the click, across the column, whose cover by bone tells body from disc. */
const BODY_RADIUS_MM = 12;
/** A click's own slice must be covered at least this much: a click in a vertebral body. */
const BODY_COVER = 0.9;
/** Below this cover a slice is a disc. */
const DISC_COVER = 0.7;
/** How far (mm) across the column from the click the vertebra reaches (its processes; the ribs beyond). */
const PROCESS_REACH_MM = 40;

/**
 * The vertebra under the click `at` in `piece` (the bone's component under it; window arrays, i
 * fastest), `axis` the array axis nearest superior. Returns a new mask, or `piece` itself when the
 * click is not in a vertebral body.
 * @example
 * const vertebra = vertebraOf(piece, wd, spacing, 2, at);
 */
export function vertebraOf(piece: Uint8Array, dims: Dims, spacing: readonly [number, number, number], axis: 0 | 1 | 2, at: number): Uint8Array {
  const strides = stridesOf(dims);
  const c = voxelCoords(at, dims);
  const [ua, va] = planeAxes(axis);
  const cover = (slice: number, radius: number, count: (p: number) => void): void => {
    const ru = Math.floor(radius / spacing[ua]);
    const rv = Math.floor(radius / spacing[va]);
    for (let v = Math.max(0, c[va] - rv); v <= Math.min(dims[va] - 1, c[va] + rv); v++) {
      for (let u = Math.max(0, c[ua] - ru); u <= Math.min(dims[ua] - 1, c[ua] + ru); u++) {
        if (((u - c[ua]) * spacing[ua]) ** 2 + ((v - c[va]) * spacing[va]) ** 2 > radius * radius) continue;
        count(slice * strides[axis] + u * strides[ua] + v * strides[va]);
      }
    }
  };
  const covered = (slice: number): number => {
    let inside = 0;
    let all = 0;
    cover(slice, BODY_RADIUS_MM, (p) => {
      all++;
      inside += piece[p];
    });
    return all > 0 ? inside / all : 0;
  };
  if (covered(c[axis]) < BODY_COVER) return piece;
  let lo = c[axis];
  while (lo > 0 && covered(lo - 1) >= DISC_COVER) lo--;
  let hi = c[axis];
  while (hi < dims[axis] - 1 && covered(hi + 1) >= DISC_COVER) hi++;
  const out = new Uint8Array(piece.length);
  for (let slice = lo; slice <= hi; slice++) {
    cover(slice, PROCESS_REACH_MM, (p) => {
      out[p] = piece[p];
    });
  }
  return selectComponents(out, dims, [at], 6);
}
