/**
 * Whether a pixel is enclosed by a mask in its axial plane: of the 8 directions (the plane's two
 * axes and their diagonals), how many meet the mask within a reach. The skeleton encloses a
 * vertebral body's marrow and the spinal canal all round, whatever opening its cortex has on one
 * side (the basivertebral foramen, a posterior wall under the bone threshold); it does not enclose
 * the aorta, which lies in front of or beside the spine with soft tissue in front of it — but for
 * what bone's marrow growth took of the aorta itself where it touches the spine (its lumen on
 * patient B, a ring of its wall on C), which aorta.ts asks about with plain diagonal steps. Used to
 * find a body the skeleton does not fill (vertebra.ts) and to keep the aorta's tracker out of one
 * (aorta.ts).
 * @module
 */
import type { PlaneGeometry } from './circle-hough.js';

/** Of the 8 directions, how many must meet the mask for a pixel to be enclosed: one may be open. */
export const ENCLOSED_DIRECTIONS = 7;

const DIRECTIONS: readonly (readonly [number, number])[] = [
  [1, 0],
  [1, 1],
  [0, 1],
  [-1, 1],
  [-1, 0],
  [-1, -1],
  [0, -1],
  [1, -1],
];

export interface EnclosureOptions {
  /** Of the 8 directions, how many must meet the mask (default ENCLOSED_DIRECTIONS). */
  readonly needed?: number;
  /**
   * Whether a diagonal step also looks at the two pixels it passes between (default true), so that
   * a mask one pixel thick and 8-connected in places stops it. Without, only a mask that is thicker
   * or 4-connected where the diagonal crosses it does: the aorta's tracker asks that (aorta.ts).
   */
  readonly between?: boolean;
}

/**
 * Whether at least `options.needed` of the 8 in-plane directions from pixel (u, v) of `plane` meet
 * `mask` (non-0) within `reachMm`, after leaving the run of it the pixel lies in, if any: a vessel
 * whose lumen the mask holds (patient B's aorta where it touches the spine, taken by bone's marrow
 * growth) is enclosed only if there is mask beyond its own rim all round. Stops as soon as too many
 * are open.
 * @example
 * enclosedInPlane(bone, plane, 120, 88, 25); // true inside a vertebral body's cortex
 */
export function enclosedInPlane(mask: Uint8Array, plane: PlaneGeometry, u: number, v: number, reachMm: number, options: EnclosureOptions = {}): boolean {
  const needed = options.needed ?? ENCLOSED_DIRECTIONS;
  const between = options.between ?? true;
  let open = 0;
  for (const [du, dv] of DIRECTIONS) {
    const step = Math.hypot(du * plane.du, dv * plane.dv);
    const stride = du * plane.su + dv * plane.sv;
    let met = false;
    let left = mask[plane.base + u * plane.su + v * plane.sv] === 0;
    // A diagonal step also looks at the two pixels it passes between: a cortex one pixel thick is
    // 8-connected in places, and a diagonal ray would slip through it.
    const diagonal = between && du !== 0 && dv !== 0;
    for (let k = 1, uu = u + du, vv = v + dv, p = plane.base + u * plane.su + v * plane.sv + stride; k * step <= reachMm; k++, uu += du, vv += dv, p += stride) {
      if (uu < 0 || vv < 0 || uu >= plane.nu || vv >= plane.nv) break;
      const hit = mask[p] !== 0 || (diagonal && (mask[p - du * plane.su] !== 0 || mask[p - dv * plane.sv] !== 0));
      if (!hit) left = true;
      else if (left) {
        met = true;
        break;
      }
    }
    if (!met && ++open > DIRECTIONS.length - needed) return false;
  }
  return true;
}
