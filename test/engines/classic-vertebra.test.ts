/**
 * One vertebra out of the spine's bone (vertebra.ts) on a synthetic column sampled at 1 × 1 × 2 mm:
 * three vertebral bodies (cylinders of radius 15 mm, 24 mm high) joined at the two 6 mm discs by a
 * bony rim (radius 13–15 mm: what the endplates' ring looks like in 2 mm slices), and a rib leaving
 * the middle body sideways for 60 mm — one 6-connected piece, as the skeleton joins a real spine.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { selectComponents } from '../../src/engines/classic/components.js';
import { segmentClassic } from '../../src/engines/classic/classic-engine.js';
import { vertebraOf, vertebralBody } from '../../src/engines/classic/vertebra.js';
import { createVolume } from '../../src/volume/volume.js';
import { countOf } from '../helpers/phantoms.js';

const DIMS: [number, number, number] = [141, 41, 45]; // x −20…120 mm, y −20…20 mm, z 0…88 mm
const SPACING: [number, number, number] = [1, 1, 2];

/** Which part of the column a voxel is: the body of vertebra 0, 1 or 2, a disc's rim, the rib, or nothing. */
function partOf(i: number, j: number, k: number): string | undefined {
  const x = i - 20;
  const y = j - 20;
  const z = 2 * k;
  const r = Math.hypot(x, y);
  // Vertebra n spans z 30·n … 30·n + 22 (twelve 2 mm slices), its disc the next three slices.
  const n = Math.floor(z / 30);
  const inBody = z - 30 * n < 24;
  if (r <= 15 && inBody && n <= 2) return `body ${n}`;
  if (r >= 13 && r <= 15 && !inBody && n <= 1) return 'rim';
  if (n === 1 && inBody && Math.abs(y) <= 3 && Math.abs(z - 40) <= 4 && x > 0 && x <= 75) return 'rib';
  return undefined;
}

const column = new Uint8Array(DIMS[0] * DIMS[1] * DIMS[2]);
const parts: (string | undefined)[] = [];
for (let k = 0, p = 0; k < DIMS[2]; k++) for (let j = 0; j < DIMS[1]; j++) for (let i = 0; i < DIMS[0]; i++, p++) {
  parts.push(partOf(i, j, k));
  column[p] = parts[p] === undefined ? 0 : 1;
}
const at = (x: number, y: number, z: number): number => x + 20 + DIMS[0] * (y + 20 + DIMS[1] * (z / 2));

describe('classic engine: one vertebra out of the spine (a click labelled as a vertebra)', () => {
  test('a click in the middle body gives that vertebra: its body and the rib within 40 mm, not the discs or the next vertebrae', () => {
    const vertebra = vertebraOf(column, new Int16Array(column.length), DIMS, SPACING, 2, at(0, 0, 40));
    const held = new Map<string, number>();
    let ribBeyond = 0;
    for (let p = 0; p < column.length; p++) {
      if (vertebra[p] === 0) continue;
      held.set(parts[p] as string, (held.get(parts[p] as string) ?? 0) + 1);
      if (parts[p] === 'rib' && (p % DIMS[0]) - 20 > 40) ribBeyond++;
    }
    const body1 = parts.filter((q) => q === 'body 1').length;
    assert.deepEqual([...held.keys()].sort(), ['body 1', 'rib']);
    assert.equal(held.get('body 1'), body1);
    assert.equal(ribBeyond, 0);
  });

  test('a click where the bone does not fill the column (beside the body) leaves the piece as it is', () => {
    // On the rib, 30 mm from the body's axis: its slice's 12 mm disc is mostly not bone.
    const piece = vertebraOf(column, new Int16Array(column.length), DIMS, SPACING, 2, at(30, 0, 40));
    assert.equal(piece, column);
    assert.equal(countOf(piece), countOf(column));
  });
});

/**
 * An osteopenic column as patient B's CTA shows it, sampled at 1.5 mm: three vertebrae (bodies of
 * radius 15 mm, 24 mm high, 30 mm apart) whose cancellous bone is 110 HU on average but 10–210 HU
 * voxel to voxel (a fixed pseudo-random texture: B's T12 runs from 13 to 328 HU, half of it under
 * the 100 HU of marrow growth), whose discs are as dense (110 HU), whose endplates (the two slices at each end of a
 * body) are 220 HU, and whose cortex (700 HU) is open behind over 10 mm — the basivertebral
 * foramen, a posterior wall under the bone threshold — onto the spinal canal (20 HU), which the
 * pedicles and the lamina close behind. Soft tissue 40 HU. World x = (i − 40)·1.5, y = (j − 44)·1.5
 * (anterior +), z = k·1.5.
 */
const OS_DIMS: [number, number, number] = [80, 80, 60];
const OS_SPACING: [number, number, number] = [1.5, 1.5, 1.5];

/** Which vertebra's body slices k is in (0, 1 or 2), or undefined in a disc. */
function bodyOf(k: number): number | undefined {
  const n = Math.floor((k - 2) / 20);
  return k >= 2 && (k - 2) % 20 < 16 && n <= 2 ? n : undefined;
}

interface Osteopenic {
  readonly values: Int16Array;
  readonly part: (string | undefined)[];
}

/** A fixed pseudo-random value in [−1, 1) for voxel p (a hash: the same phantom on every run). */
function noise(p: number): number {
  let h = Math.imul(p ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 2 ** 31 - 1;
}

function osteopenicColumn(): Osteopenic {
  const values = new Int16Array(OS_DIMS[0] * OS_DIMS[1] * OS_DIMS[2]);
  const part: (string | undefined)[] = [];
  for (let k = 0, p = 0; k < OS_DIMS[2]; k++) {
    const n = bodyOf(k);
    const endplate = n !== undefined && ((k - 2) % 20 < 2 || (k - 2) % 20 >= 14);
    for (let j = 0; j < OS_DIMS[1]; j++) {
      for (let i = 0; i < OS_DIMS[0]; i++, p++) {
        const x = (i - 40) * 1.5;
        const y = (j - 44) * 1.5;
        const r = Math.hypot(x, y);
        let hu = 40;
        let what: string | undefined;
        if (Math.abs(x) <= 8 && y >= -33 && y <= -15) [hu, what] = [20, 'canal'];
        if (r <= 15) {
          if (n === undefined) [hu, what] = [110, 'disc'];
          else if (r >= 13.5) [hu, what] = y < -9 && Math.abs(x) <= 5 ? [110, 'gap'] : [700, 'cortex'];
          else if (endplate) [hu, what] = [220, 'endplate'];
          else [hu, what] = [110 + Math.round(100 * noise(p)), `marrow ${n}`];
        } else if (n !== undefined) {
          const arch = Math.hypot(x, y + 26);
          if (Math.abs(x) > 8 && Math.abs(x) <= 11 && y >= -30 && y <= -13) [hu, what] = [700, 'arch'];
          if (arch >= 8 && arch <= 11 && y <= -26) [hu, what] = [700, 'arch'];
        }
        values[p] = hu;
        part.push(what);
      }
    }
  }
  return { values, part };
}

const osteopenic = osteopenicColumn();
const osAt = (i: number, j: number, k: number): number => i + OS_DIMS[0] * (j + OS_DIMS[1] * k);
const sliceOf = (p: number): number => Math.floor(p / (OS_DIMS[0] * OS_DIMS[1]));

describe('classic engine: a vertebra of an osteopenic spine (discs as dense as the bodies, cortex open behind)', () => {
  test('where the bone fills the discs too, the vertebra is cut at its endplates: the middle body\'s 16 slices exactly', () => {
    // The column filled through its discs (as patient B's skeleton is), with the arches.
    const piece = new Uint8Array(osteopenic.values.length);
    for (let p = 0; p < piece.length; p++) piece[p] = osteopenic.part[p] !== undefined && osteopenic.part[p] !== 'canal' ? 1 : 0;
    const vertebra = vertebraOf(piece, osteopenic.values, OS_DIMS, OS_SPACING, 2, osAt(40, 44, 30));
    const slices = new Set<number>();
    let held = 0;
    let expected = 0;
    for (let p = 0; p < piece.length; p++) {
      if (piece[p] !== 0 && sliceOf(p) >= 22 && sliceOf(p) <= 37) expected++;
      if (vertebra[p] === 0) continue;
      held++;
      slices.add(sliceOf(p));
    }
    assert.deepEqual([...slices].sort((a, b) => a - b), Array.from({ length: 16 }, (_, s) => 22 + s));
    assert.equal(held, expected);
  });

  test('a thick part that meets the body at a neck is not the vertebra: an aorta the skeleton took, joined by a bridge', () => {
    // The column filled through its discs, with its arches; in front of it an "aorta" of radius
    // 10 mm (centre 27 mm anterior) that the skeleton took, joined to the body by a bridge of three
    // voxels (4.5 mm) across, as on patient B.
    const piece = new Uint8Array(osteopenic.values.length);
    const aorta = new Uint8Array(piece.length);
    for (let k = 0, p = 0; k < OS_DIMS[2]; k++) {
      for (let j = 0; j < OS_DIMS[1]; j++) {
        for (let i = 0; i < OS_DIMS[0]; i++, p++) {
          const x = (i - 40) * 1.5;
          const y = (j - 44) * 1.5;
          aorta[p] = Math.hypot(x, y - 27) <= 10 ? 1 : 0;
          const bridge = Math.abs(x) < 3 && y > 14 && y < 18;
          piece[p] = aorta[p] | (bridge ? 1 : 0) | (osteopenic.part[p] !== undefined && osteopenic.part[p] !== 'canal' ? 1 : 0);
        }
      }
    }
    const vertebra = vertebraOf(piece, osteopenic.values, OS_DIMS, OS_SPACING, 2, osAt(40, 44, 30));
    let aortaKept = 0;
    let ownLost = 0;
    for (let p = 0; p < piece.length; p++) {
      if (aorta[p] !== 0 && vertebra[p] !== 0) aortaKept++;
      const own = osteopenic.part[p] !== undefined && osteopenic.part[p] !== 'canal' && sliceOf(p) >= 22 && sliceOf(p) <= 37;
      if (own && vertebra[p] === 0) ownLost++;
    }
    assert.equal(aortaKept, 0);
    assert.equal(ownLost, 0);
  });

  test('a click in a body the bone does not fill finds the body: its marrow, not the canal behind its open wall nor the discs', () => {
    const bone = Uint8Array.from(osteopenic.values, (v) => (v >= 200 ? 1 : 0));
    const click = osAt(40, 44, 30);
    assert.equal(bone[click], 0);
    const body = vertebralBody(bone, osteopenic.values, OS_DIMS, OS_SPACING, 2, click);
    assert.ok(body);
    const count = new Map<string, number>();
    let deepCanal = 0;
    for (let p = 0; p < body.length; p++) {
      if (body[p] === 0) continue;
      const what = osteopenic.part[p] ?? 'tissue';
      count.set(what, (count.get(what) ?? 0) + 1);
      // More than 3 mm behind the body's posterior wall (y = −15 mm).
      if (what === 'canal' && (Math.floor(p / OS_DIMS[0]) % OS_DIMS[1] - 44) * 1.5 < -18) deepCanal++;
    }
    // Its marrow: what the body holds and the noisy voxels over 200 HU that are bone already, all
    // but one voxel of 19 HU by the open wall (its neighbourhood is the canal's: a mean under 60 HU).
    const marrow = osteopenic.part.filter((w) => w === 'marrow 1').length;
    const marrowBone = osteopenic.part.filter((w, p) => w === 'marrow 1' && bone[p] !== 0).length;
    assert.equal((count.get('marrow 1') ?? 0) + marrowBone, marrow - 1);
    assert.deepEqual([...count.keys()].filter((w) => w !== 'marrow 1' && w !== 'gap' && w !== 'canal'), []);
    assert.equal(deepCanal, 0);
    // Bone and body together: the click is on the spine, and the cover finds the discs.
    const both = bone.map((b, p) => b | body[p]);
    const vertebra = vertebraOf(selectComponents(both, OS_DIMS, [click], 6), osteopenic.values, OS_DIMS, OS_SPACING, 2, click);
    const slices = new Set<number>();
    for (let p = 0; p < vertebra.length; p++) if (vertebra[p] !== 0) slices.add(sliceOf(p));
    assert.deepEqual([...slices].sort((a, b) => a - b), Array.from({ length: 16 }, (_, s) => 22 + s));
  });

  test('a click labelled T12 in the middle body, through the engine, gives that vertebra, arch and endplates with it', () => {
    // The column in a trunk (semi-axes 55 × 55 mm) in air, so that the image is CT.
    const data = osteopenic.values.map((v, p) => {
      const i = p % OS_DIMS[0];
      const j = Math.floor(p / OS_DIMS[0]) % OS_DIMS[1];
      return Math.hypot((i - 40) * 1.5, (j - 44) * 1.5) <= 55 ? v : -1000;
    });
    const affine = [1.5, 0, 0, -60, 0, 1.5, 0, -66, 0, 0, 1.5, 0, 0, 0, 0, 1];
    const volume = createVolume(OS_DIMS, data, affine);
    const answer = segmentClassic(volume, { classes: [], points: { label: 38, points: [[40, 44, 30]], pointLabels: [1] } }).data;
    const slices = new Set<number>();
    const held = new Map<string, number>();
    for (let p = 0; p < answer.length; p++) {
      if (answer[p] !== 38) continue;
      slices.add(sliceOf(p));
      const what = osteopenic.part[p] ?? 'tissue';
      held.set(what, (held.get(what) ?? 0) + 1);
    }
    assert.deepEqual([...slices].sort((a, b) => a - b), Array.from({ length: 16 }, (_, s) => 22 + s));
    // All its marrow but the one voxel of 19 HU by the open wall (as vertebralBody finds it above).
    assert.equal(held.get('marrow 1'), osteopenic.part.filter((w) => w === 'marrow 1').length - 1);
    assert.equal(held.get('arch'), osteopenic.part.filter((w, p) => w === 'arch' && sliceOf(p) >= 22 && sliceOf(p) <= 37).length);
    assert.equal(held.get('disc') ?? 0, 0);
  });

  test('a click in the canal or beside the spine is not in a body', () => {
    const bone = Uint8Array.from(osteopenic.values, (v) => (v >= 200 ? 1 : 0));
    assert.equal(vertebralBody(bone, osteopenic.values, OS_DIMS, OS_SPACING, 2, osAt(40, 44 - 16, 30)), undefined);
    assert.equal(vertebralBody(bone, osteopenic.values, OS_DIMS, OS_SPACING, 2, osAt(40 + 20, 44, 30)), undefined);
  });
});
