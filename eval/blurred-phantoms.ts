/**
 * `npm run eval:phantoms`: the classic engine's lung, airway, trachea and bone, and one zero-shot click
 * in the abdomen's sphere (120 HU in 40 HU) and in a blob (60 HU in fat), on the synthetic chest
 * (test/helpers/phantoms.ts) imaged the way a scanner images it — blurred by a Gaussian point
 * spread along every axis, then 10 HU of noise — against the phantom's known masks, for a few
 * spacings and spreads. The phantoms of the tests sample the anatomy sharp, at voxel centres; a real
 * CT is blurred, and an edge drawn by a threshold moves with the blur (docs/classic-engine.md,
 * Airway and Bone: the half maximum). A spread of 0 is the sharp phantom.
 *
 *   npm run eval:phantoms
 *   npm run eval:phantoms -- --spacing 1,1.5 --psf 0,0.6,1
 * @module
 */
import { parseArgs } from 'node:util';
import { segmentClassic } from '../src/engines/classic/classic-engine.js';
import type { PointPrompt } from '../src/engines/engine.js';
import { createVolume } from '../src/volume/volume.js';
import { buildPhantom, countOf, dice, imagedByScanner, labelMask } from '../test/helpers/phantoms.js';

const { values } = parseArgs({ options: { spacing: { type: 'string', default: '1,1.5' }, psf: { type: 'string', default: '0,0.6,1' } } });
const spacings = values.spacing.split(',').map(Number);
const spreads = values.psf.split(',').map(Number);

console.log('classic engine on the synthetic chest blurred by a point spread (σ, every axis) with 10 HU of noise; Dice against its masks (voxels: answer / truth)');
console.log('| voxels | point spread σ | lung | airway (57 ∪ 132) | trachea | bone | click: sphere | click: blob |');
console.log('|---|---|---|---|---|---|---|---|');
for (const spacing of spacings) {
  const phantom = buildPhantom({ spacing: [spacing, spacing, spacing], noise: 0 });
  const { dims, affine } = phantom.volume;
  for (const psf of spreads) {
    const volume = createVolume([...dims], imagedByScanner(phantom.volume.data, dims, [spacing, spacing, spacing], [psf, psf, psf], 10), affine);
    const labels = segmentClassic(volume, { classes: [20, 21, 57, 132] }).data;
    const cell = (answer: Uint8Array, truth: Uint8Array): string => `${dice(answer, truth).toFixed(3)} (${countOf(answer)} / ${countOf(truth)})`;
    const airway = Uint8Array.from(labels, (v) => (v === 57 || v === 132 ? 1 : 0));
    const { masks, landmarks } = phantom;
    const click = (at: readonly [number, number, number]): Uint8Array => {
      const prompt: PointPrompt = { label: 140, points: [phantom.voxelOf(at)], pointLabels: [1] };
      return labelMask(segmentClassic(volume, { classes: [], points: prompt }).data, 140);
    };
    console.log(
      `| ${spacing} mm | ${psf} mm | ${cell(labelMask(labels, 20), masks.lung)} | ${cell(airway, masks.airway)} | ${cell(labelMask(labels, 57), masks.trachea)} | ${cell(labelMask(labels, 21), masks.bone)} | ${cell(click(landmarks.sphere), masks.sphere)} | ${cell(click(landmarks.blobA), masks.blobA)} |`,
    );
  }
}
