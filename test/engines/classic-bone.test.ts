/**
 * Bone (class 21) on a synthetic slab sampled like patient C of the shared data (0.8 mm pixels, 2 mm
 * slices): a vertebra whose arch encloses the spinal canal (20 HU, 154 mm²), the shaft of a humerus
 * with fatty marrow (−60 HU, 154 mm²), a rib curving obliquely through the slices with marrow of
 * 40 HU — neither the cancellous bone's ≥ 100 HU nor fat — and an anterior rib whose front end
 * continues as costal cartilage (130 HU) to the midline, with an enhanced liver (115 HU) touching
 * that rib from inside. Marrow and cartilage are bone; the canal and the liver are not.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { segmentClassic } from '../../src/engines/classic/classic-engine.js';
import { selectComponents } from '../../src/engines/classic/components.js';
import type { Affine } from '../../src/volume/affine.js';
import { affineFrom, multiply } from '../../src/volume/affine.js';
import { createVolume } from '../../src/volume/volume.js';
import { countOf, dice, labelMask } from '../helpers/phantoms.js';

const PIXEL = 0.8;
const SLICE = 2;
const DIMS = [190, 140, 16] as const; // x −75.6…75.6, y −55.6…55.6, z −15…15 mm
const RIB_AXIS = (() => {
  const [x, y, z] = [Math.cos((2 * Math.PI) / 3), Math.sin((2 * Math.PI) / 3), -0.45];
  const n = Math.hypot(x, y, z);
  return [x / n, y / n, z / n] as const;
})();
const RIB_CENTRE = [-35, 20, 0] as const;

type Part = 'air' | 'tissue' | 'cortex' | 'cancellous' | 'canal' | 'fatty' | 'ribMarrow' | 'cartilage' | 'liver' | 'blood' | 'myocardium' | 'jet' | 'metal' | 'bloom' | 'stone';

function partAt(x: number, y: number, z: number): Part {
  if ((x / 75) ** 2 + (y / 55) ** 2 > 1) return 'air';
  const body = Math.hypot(x, y + 25);
  if (body <= 13) return body > 11 ? 'cortex' : 'cancellous';
  const arch = Math.hypot(x, y + 45);
  if (arch <= 10) return arch > 7 ? 'cortex' : 'canal';
  const humerus = Math.hypot(x + 55, y + 20);
  if (humerus <= 10) return humerus > 7 ? 'cortex' : 'fatty';
  const rx = x - RIB_CENTRE[0], ry = y - RIB_CENTRE[1], rz = z - RIB_CENTRE[2];
  const along = rx * RIB_AXIS[0] + ry * RIB_AXIS[1] + rz * RIB_AXIS[2];
  const across = Math.sqrt(Math.max(0, rx * rx + ry * ry + rz * rz - along * along));
  // Capped at both ends: a rib's marrow does not open into the tissue around it.
  if (Math.abs(along) <= 25 && across <= 4) return across > 2.6 || Math.abs(along) > 23.5 ? 'cortex' : 'ribMarrow';
  // The anterior rib (x 30…50 mm) and its cartilage (x 0…30 mm), a tube of radius 4 mm at y = 35 mm.
  const tube = Math.hypot(y - 35, z);
  if (tube <= 4 && x >= 30 && x <= 50) return tube > 2.6 || x > 48.5 ? 'cortex' : 'ribMarrow';
  if (tube <= 4 && x >= 0 && x < 30) return 'cartilage';
  if (((x - 46) / 14) ** 2 + ((y - 12) / 24) ** 2 <= 1) return 'liver';
  return 'tissue';
}

/**
 * A CT angiogram's chest: the heart's contrast-filled blood (350 HU) in a 4 mm wall of enhanced
 * myocardium (130 HU) that touches the back of the anterior rib's cartilage — as thin as cartilage
 * and as bright — and in the blood a jet of undiluted contrast (1 200 HU) coming in from the vein,
 * as bright as cortex.
 */
function heartPartAt(x: number, y: number, z: number): Part {
  if ((x / 75) ** 2 + (y / 55) ** 2 > 1) return 'air';
  const body = Math.hypot(x, y + 38);
  if (body <= 13) return body > 11 ? 'cortex' : 'cancellous';
  const tube = Math.hypot(y - 35, z);
  if (tube <= 4 && x >= 30 && x <= 50) return tube > 2.6 || x > 48.5 ? 'cortex' : 'ribMarrow';
  if (tube <= 4 && x >= 0 && x < 30) return 'cartilage';
  const heart = Math.hypot(x + 12, y - 8);
  if (heart <= 5) return 'jet';
  if (heart <= 22) return 'blood';
  if (heart <= 26) return 'myocardium';
  return 'tissue';
}

/**
 * The slab of partAt with metal in it (3 071 HU, where a 12-bit scanner saturates): a pedicle screw
 * (radius 2 mm) through the vertebral body from its cortex to its middle; a pacemaker lead (radius
 * 1.5 mm) through the soft tissue, in a 1.5 mm bloom of 1 100 HU (the scanner's blur of the metal,
 * as bright as cortex); a surgical clip, a ball of 4 mm, in a bloom to 6 mm.
 */
function metalPartAt(x: number, y: number, z: number): Part {
  if (Math.hypot(x - 4, z) <= 2 && y >= -34 && y <= -14) return 'metal';
  const lead = Math.hypot(x - 22, y + 2);
  if (lead <= 1.5) return 'metal';
  if (lead <= 3) return 'bloom';
  const clip = Math.hypot(x + 20, y + 5, z);
  if (clip <= 4) return 'metal';
  if (clip <= 6) return 'bloom';
  return partAt(x, y, z);
}

/**
 * The slab of partAt with two small bright balls (radius 4 mm, 0.27 mL, 900 HU as cortex is): a
 * stone deep in the abdomen (40 mm inside the body in its plane, 19 mm from the vertebra, 24 mm
 * from the anterior rib) and, under the anterior skin (7 mm deep), a small bone of the trunk's
 * wall with the same values.
 */
function stonesPartAt(x: number, y: number, z: number): Part {
  if (Math.hypot(x - 10, y - 10, z) <= 4) return 'stone';
  if (Math.hypot(x + 8, y - 46, z) <= 4) return 'cortex';
  return partAt(x, y, z);
}

const HU: Record<Part, number> = { air: -1000, tissue: 40, cortex: 750, cancellous: 180, canal: 20, fatty: -60, ribMarrow: 40, cartilage: 130, liver: 115, blood: 350, myocardium: 130, jet: 1200, metal: 3071, bloom: 1100, stone: 900 };

const RAS = affineFrom([[PIXEL, 0, 0], [0, PIXEL, 0], [0, 0, SLICE]], [-75.6, -55.6, -15]);
// The same world points on an LPS grid whose slices run downwards (i → left, j → posterior, k → inferior).
const LPS_DOWN = multiply(RAS, affineFrom([[-1, 0, 0], [0, -1, 0], [0, 0, -1]], [DIMS[0] - 1, DIMS[1] - 1, DIMS[2] - 1]));

function slab(at: (x: number, y: number, z: number) => Part = partAt, affine: Affine = RAS): { volume: ReturnType<typeof createVolume>; parts: Part[] } {
  const data = new Int16Array(DIMS[0] * DIMS[1] * DIMS[2]);
  const parts: Part[] = [];
  for (let k = 0, p = 0; k < DIMS[2]; k++) {
    for (let j = 0; j < DIMS[1]; j++) {
      for (let i = 0; i < DIMS[0]; i++, p++) {
        const a = affine;
        const part = at(a[0] * i + a[1] * j + a[2] * k + a[3], a[4] * i + a[5] * j + a[6] * k + a[7], a[8] * i + a[9] * j + a[10] * k + a[11]);
        parts.push(part);
        // Deterministic noise of ±8 HU (a function of the voxel index: not the same per world point across grids).
        data[p] = HU[part] + (part === 'air' ? 0 : ((p * 2654435761) >>> 28) - 8);
      }
    }
  }
  return { volume: createVolume([...DIMS], data, affine), parts };
}

/** Whether voxel p of the RAS slab lies within the oblique rib's capped cylinder (radius 4 mm). */
function obliqueRib(p: number): boolean {
  const i = p % DIMS[0];
  const j = Math.floor(p / DIMS[0]) % DIMS[1];
  const k = Math.floor(p / (DIMS[0] * DIMS[1]));
  const r = [-75.6 + PIXEL * i - RIB_CENTRE[0], -55.6 + PIXEL * j - RIB_CENTRE[1], -15 + SLICE * k - RIB_CENTRE[2]];
  const along = r[0] * RIB_AXIS[0] + r[1] * RIB_AXIS[1] + r[2] * RIB_AXIS[2];
  return Math.abs(along) <= 25 && r[0] ** 2 + r[1] ** 2 + r[2] ** 2 - along * along <= 16;
}

/** Share of the voxels of `part` that `bone` holds. */
function coverage(parts: readonly Part[], bone: Uint8Array, part: Part): number {
  let n = 0;
  let of = 0;
  for (let p = 0; p < parts.length; p++) {
    if (parts[p] !== part) continue;
    of++;
    if (bone[p] !== 0) n++;
  }
  return n / of;
}

describe('classic engine: bone marrow that is neither cancellous nor fat-free', () => {
  const { volume, parts } = slab();
  const bone = labelMask(segmentClassic(volume, { classes: [21] }).data, 21);
  const of = (part: Part): Uint8Array => Uint8Array.from(parts, (q) => (q === part ? 1 : 0));
  const covered = (part: Part): number => coverage(parts, bone, part);

  test('fills the fatty marrow of a long bone and the marrow of an oblique rib', () => {
    assert.equal(covered('fatty'), 1);
    assert.ok(covered('ribMarrow') >= 0.95, `rib marrow covered: ${covered('ribMarrow').toFixed(3)}`);
    assert.equal(covered('cancellous'), 1);
  });

  test('leaves the spinal canal open', () => {
    assert.equal(countOf(of('canal')), 3_872);
    assert.equal(covered('canal'), 0);
  });

  test('takes the costal cartilage that continues a rib, not the enhanced liver touching it', () => {
    // 0.832: the 3×3 mean at the band's edge mixes in the 40 HU around it (as it does on patient C).
    assert.ok(covered('cartilage') >= 0.8, `cartilage covered: ${covered('cartilage').toFixed(3)}`);
    // Bone's marrow growth takes ≥ 100 HU up to 3 mm from bone (the rib's back is at y = 31 mm);
    // beyond that, nothing of the liver.
    let deep = 0;
    for (let p = 0; p < parts.length; p++) {
      const y = -55.6 + PIXEL * (Math.floor(p / DIMS[0]) % DIMS[1]);
      if (parts[p] === 'liver' && y < 27.9 && bone[p] !== 0) deep++;
    }
    assert.equal(deep, 0);
    assert.ok(covered('liver') <= 0.04, `liver covered: ${covered('liver').toFixed(3)}`);
  });

  test('finds the same marrow and cartilage on an LPS grid whose slices run downwards', () => {
    const lps = slab(partAt, LPS_DOWN);
    const other = labelMask(segmentClassic(lps.volume, { classes: [21] }).data, 21);
    const share = (part: Part): number => coverage(lps.parts, other, part);
    for (const part of ['fatty', 'ribMarrow', 'cartilage', 'canal', 'liver'] as const) {
      assert.ok(Math.abs(share(part) - covered(part)) <= 0.02, `${part}: ${share(part).toFixed(3)} on LPS, ${covered(part).toFixed(3)} on RAS`);
    }
  });

  test('a click labelled as a rib (70) in the oblique rib\'s marrow gives that rib as the skeleton answers it', () => {
    // x −34.8, y 19.6, z −1 mm: 1.1 mm from the rib's axis, in its marrow.
    const at: [number, number, number] = [51, 94, 7];
    const rib = labelMask(segmentClassic(volume, { classes: [], points: { label: 70, points: [at], pointLabels: [1] } }).data, 70);
    const piece = selectComponents(bone, [...DIMS], [at[0] + DIMS[0] * (at[1] + DIMS[1] * at[2])], 6);
    assert.equal(countOf(rib), countOf(piece));
    assert.equal(dice(rib, piece), 1);
    // The piece is the oblique rib, whole: cortex and marrow within its 4 mm radius of its axis.
    const truth = Uint8Array.from(parts, (_, p) => (obliqueRib(p) && (parts[p] === 'cortex' || parts[p] === 'ribMarrow') ? 1 : 0));
    const d = dice(rib, truth);
    assert.ok(d >= 0.999, `Dice ${d.toFixed(4)}`); // 1.0000
    // A zero-shot click at the same voxel floods the marrow: about half of the rib (0.5374).
    const flooded = labelMask(segmentClassic(volume, { classes: [], points: { label: 140, points: [at], pointLabels: [1] } }).data, 140);
    assert.ok(dice(flooded, truth) < 0.6, `zero-shot ${dice(flooded, truth).toFixed(4)}, labelled ${d.toFixed(4)}`);
  });

  test('a click labelled as a rib (69) in the anterior rib gives the rib, not the cartilage that continues it', () => {
    // x 39.6, y 34.8, z −1 mm: in the anterior rib's marrow (its axis at y 35, z 0).
    const at: [number, number, number] = [144, 113, 7];
    const rib = labelMask(segmentClassic(volume, { classes: [], points: { label: 69, points: [at], pointLabels: [1] } }).data, 69);
    let cartilageBeyond = 0;
    let ribHeld = 0;
    let ribAll = 0;
    for (let p = 0; p < parts.length; p++) {
      const x = -75.6 + PIXEL * (p % DIMS[0]);
      const y = -55.6 + PIXEL * (Math.floor(p / DIMS[0]) % DIMS[1]);
      const z = -15 + SLICE * Math.floor(p / (DIMS[0] * DIMS[1]));
      // The marrow growth reaches 3 mm into the cartilage from the rib's end at x = 30 mm.
      if (parts[p] === 'cartilage' && rib[p] !== 0 && x < 30 - 3 - PIXEL) cartilageBeyond++;
      if (x >= 30 && x <= 50 && Math.hypot(y - 35, z) <= 4 && (parts[p] === 'cortex' || parts[p] === 'ribMarrow')) {
        ribAll++;
        ribHeld += rib[p];
      }
    }
    assert.equal(cartilageBeyond, 0);
    assert.ok(ribHeld >= 0.95 * ribAll, `${ribHeld} of the rib's ${ribAll} voxels`);
    // The skeleton's answer to class 21 holds the cartilage.
    assert.ok(covered('cartilage') >= 0.8);
  });

  test('a click labelled as the humerus (88) in the fatty marrow of a thick-walled shaft gives the bone, cortex whole', () => {
    // The humerus with marrow of radius 3 mm in an 11 mm cortex: the click floods the marrow only
    // (too thick a wall for the enclosing cortex of a zero-shot click): 2 080 of the bone's 15 296 voxels, so
    // the bone's piece is more than 3 times the flood; it is still one bone for the click's depth in
    // it (14 mm: 200·d³ is 549 mL, the piece 20 mL).
    const thick = slab((x, y, z) => {
      const r = Math.hypot(x + 55, y + 20);
      return r <= 14 ? (r > 3 ? 'cortex' : 'fatty') : partAt(x, y, z);
    });
    // x −55.6, y −20.4 mm: the shaft's axis, in the middle slice.
    const at: [number, number, number] = [25, 44, 7];
    const click = (label: number): Uint8Array => labelMask(segmentClassic(thick.volume, { classes: [], points: { label, points: [at], pointLabels: [1] } }).data, label);
    const humerus = click(88);
    const skeleton = labelMask(segmentClassic(thick.volume, { classes: [21] }).data, 21);
    const piece = selectComponents(skeleton, [...DIMS], [at[0] + DIMS[0] * (at[1] + DIMS[1] * at[2])], 6);
    assert.equal(dice(humerus, piece), 1);
    const truth = Uint8Array.from(thick.parts, (q, p) => ((q === 'cortex' || q === 'fatty') && Math.hypot(-75.6 + PIXEL * (p % DIMS[0]) + 55, -55.6 + PIXEL * (Math.floor(p / DIMS[0]) % DIMS[1]) + 20) <= 14 ? 1 : 0));
    assert.equal(countOf(truth), 15296);
    assert.equal(countOf(humerus), 15296);
    assert.equal(dice(humerus, truth), 1);
    // A zero-shot click floods the marrow alone.
    assert.equal(countOf(click(140)), 2080);
  });

  test('a click labelled as a rib on an image that is not CT is the flood of the click alone', () => {
    const data = Int16Array.from(volume.data, (v) => Math.max(0, Math.min(800, Math.round((v + 1000) * 0.4))));
    const mr = createVolume([...DIMS], data, RAS);
    const at: [number, number, number] = [51, 94, 7];
    const labelled = labelMask(segmentClassic(mr, { classes: [], points: { label: 70, points: [at], pointLabels: [1] } }).data, 70);
    const zeroShot = labelMask(segmentClassic(mr, { classes: [], points: { label: 140, points: [at], pointLabels: [1] } }).data, 140);
    assert.ok(countOf(labelled) > 0);
    assert.equal(dice(labelled, zeroShot), 1);
  });

  test('is the skeleton, marrow and cartilage included', () => {
    const truth = Uint8Array.from(parts, (q) => (q === 'cortex' || q === 'cancellous' || q === 'fatty' || q === 'ribMarrow' || q === 'cartilage' ? 1 : 0));
    const d = dice(bone, truth);
    assert.ok(d >= 0.95, `Dice ${d.toFixed(4)}`); // 0.9601
  });
});

describe('classic engine: metal is not bone', () => {
  const plain = labelMask(segmentClassic(slab().volume, { classes: [21] }).data, 21);
  const { volume, parts } = slab(metalPartAt);
  const bone = labelMask(segmentClassic(volume, { classes: [21] }).data, 21);

  test('a lead and a clip in soft tissue, bloom included, are no part of the skeleton', () => {
    assert.equal(countOf(Uint8Array.from(parts, (q) => (q === 'metal' ? 1 : 0))), 572);
    assert.equal(countOf(Uint8Array.from(parts, (q) => (q === 'bloom' ? 1 : 0))), 1_064);
    assert.equal(coverage(parts, bone, 'metal'), 0);
    assert.equal(coverage(parts, bone, 'bloom'), 0);
  });

  test('a screw in a vertebra leaves the vertebra as it is around it', () => {
    // Everything but the screw is the skeleton the slab without metal gets.
    let lost = 0;
    let gained = 0;
    for (let p = 0; p < bone.length; p++) {
      if (parts[p] === 'metal') continue;
      if (plain[p] !== 0 && bone[p] === 0) lost++;
      if (plain[p] === 0 && bone[p] !== 0) gained++;
    }
    assert.deepEqual({ lost, gained }, { lost: 0, gained: 0 });
  });
});

describe('classic engine: a calcification in the viscera is not bone', () => {
  test('a small bright ball deep in the body, far from bone, is left out; the same under the skin is bone', () => {
    const { volume, parts } = slab(stonesPartAt);
    const bone = labelMask(segmentClassic(volume, { classes: [21] }).data, 21);
    assert.equal(countOf(Uint8Array.from(parts, (q) => (q === 'stone' ? 1 : 0))), 212);
    assert.equal(coverage(parts, bone, 'stone'), 0);
    // The small bone of the wall: all of its voxels but its partial-volume surface.
    let wall = 0;
    let held = 0;
    for (let p = 0; p < parts.length; p++) {
      const i = p % DIMS[0];
      const j = Math.floor(p / DIMS[0]) % DIMS[1];
      const k = Math.floor(p / (DIMS[0] * DIMS[1]));
      if (Math.hypot(-75.6 + PIXEL * i + 8, -55.6 + PIXEL * j - 46, -15 + SLICE * k) > 4) continue;
      wall++;
      held += bone[p];
    }
    assert.deepEqual({ wall, held }, { wall: 216, held: 216 });
  });
});

describe('classic engine: costal cartilage beside the heart of a CT angiogram', () => {
  test('gives the cartilage up rather than take the enhanced heart wall touching it', () => {
    const { volume, parts } = slab(heartPartAt);
    const bone = labelMask(segmentClassic(volume, { classes: [21] }).data, 21);
    // Bone's marrow growth takes ≥ 100 HU up to 3 mm from bone; the wall beyond the cartilage is not taken.
    let wall = 0;
    let cartilage = 0;
    let blood = 0;
    for (let p = 0; p < parts.length; p++) {
      if (bone[p] === 0) continue;
      if (parts[p] === 'myocardium') wall++;
      if (parts[p] === 'cartilage') cartilage++;
      if (parts[p] === 'blood') blood++;
    }
    // What the marrow growth took of the cartilage's end at the rib (3 mm of it), less its surface
    // under half-way from the tissue to the rib's cortex (half-maximum.ts; 136 voxels without it).
    assert.deepEqual({ wall, cartilage, blood }, { wall: 0, cartilage: 104, blood: 0 });
  });

  test('takes undiluted contrast inside the blood for contrast, not bone', () => {
    const { volume, parts } = slab(heartPartAt);
    const bone = labelMask(segmentClassic(volume, { classes: [21] }).data, 21);
    let jet = 0;
    for (let p = 0; p < parts.length; p++) if (parts[p] === 'jet' && bone[p] !== 0) jet++;
    assert.equal(jet, 0);
    assert.ok(countOf(bone) > 0);
  });
});
