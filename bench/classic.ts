/**
 * The classic engine alone (no HTTP, no decoding), on the generated 512×512×300 CT of
 * fixtures/synthetic-ct.ts: everything-mode (aorta, lung, bone, trachea, spinal cord, airway; the
 * CT has no contrast, so the aorta is left out after the blood-pool check) and one click once the
 * volume is loaded (a lung, and a vertebral body, zero-shot and labelled as a vertebra), each
 * beside its target; the lung's click with a corrective negative click in it (no target); and the
 * process's peak memory beside the decoded image's size (target ≤ 4×).
 *
 * Targets (issue 4): everything ≤ 5 s and one click ≤ 1 s on the 2-core machine; peak memory
 * ≤ 4× the decoded image. The engine runs in this thread here (in the server it runs in a worker
 * thread, to which the image is transferred, not copied). Best of 3 after one warm-up run each.
 * @module
 */
import os from 'node:os';
import { CLASSIC_SUPPORTED_CLASSES, segmentClassic } from '../src/engines/classic/classic-engine.js';
import type { SegmentationPrompts } from '../src/engines/engine.js';
import { createVolume } from '../src/volume/volume.js';
import { AFFINE, DIMS, generateCt } from './fixtures/synthetic-ct.js';

const RUNS = 3;
const MiB = 1024 * 1024;

function rssMiB(): number {
  return process.memoryUsage().rss / MiB;
}

function best(run: () => void): number {
  run(); // warm-up (JIT)
  let fastest = Infinity;
  for (let n = 0; n < RUNS; n++) {
    const started = performance.now();
    run();
    fastest = Math.min(fastest, performance.now() - started);
  }
  return fastest;
}

const baseline = rssMiB();
const data = generateCt();
const imageMiB = data.byteLength / MiB;
const volume = createVolume(DIMS, data, AFFINE as unknown as Parameters<typeof createVolume>[2]);
const segment = (prompts: SegmentationPrompts): void => void segmentClassic(volume, prompts);

const everything = best(() => segment({ classes: [...CLASSIC_SUPPORTED_CLASSES] }));
// Clicks at known places of the synthetic body: the centre of the left lung, and of the vertebral body.
const lung = best(() => segment({ classes: [], points: { label: 140, points: [[406, 250, 250]], pointLabels: [1] } }));
const vertebra = best(() => segment({ classes: [], points: { label: 141, points: [[256, 345, 150]], pointLabels: [1] } }));
// The same click labelled as a vertebra (T12, 38): the engine finds the skeleton first (label-aware clicks).
const labelledVertebra = best(() => segment({ classes: [], points: { label: 38, points: [[256, 345, 150]], pointLabels: [1] } }));
// A corrective negative click inside the lung's object: the prompt is run whole again (the lung's
// flood against the negative click, then what the click takes: its geodesic split and depth basin).
const negative = best(() => segment({ classes: [], points: { label: 140, points: [[406, 250, 250], [406, 250, 200]], pointLabels: [1, 0] } }));
const peak = process.resourceUsage().maxRSS / 1024; // KiB → MiB

console.log(`classic engine on a generated CT ${DIMS.join('×')} int16 (${imageMiB.toFixed(0)} MiB decoded); best of ${RUNS}, node ${process.version}, ${os.availableParallelism()} CPUs, load ${os.loadavg()[0].toFixed(1)}`);
const rows: [string, string, string, string, string][] = [
  [`everything (${CLASSIC_SUPPORTED_CLASSES.join(', ')})`, `${everything.toFixed(0)} ms`, '≤ 5000 ms', everything <= 5000 ? 'PASS' : 'MISS', 'no contrast here: the aorta is left out'],
  ['one click: a lung', `${lung.toFixed(0)} ms`, '≤ 1000 ms', lung <= 1000 ? 'PASS' : 'MISS', 'volume already loaded'],
  ['one click: a vertebral body', `${vertebra.toFixed(0)} ms`, '≤ 1000 ms', vertebra <= 1000 ? 'PASS' : 'MISS', 'zero-shot label'],
  ['one click: the same, labelled T12 (38)', `${labelledVertebra.toFixed(0)} ms`, '≤ 1000 ms', labelledVertebra <= 1000 ? 'PASS' : 'MISS', 'the skeleton is found first'],
  ['the lung click and a negative click in it', `${negative.toFixed(0)} ms`, '—', '—', 'no target: two clicks, run whole'],
  [
    'peak memory (process RSS)',
    `${peak.toFixed(0)} MiB = ${(peak / imageMiB).toFixed(2)}× image`,
    '≤ 4× image',
    peak <= 4 * imageMiB ? 'PASS' : 'MISS',
    `above node's own ${baseline.toFixed(0)} MiB: ${(peak - baseline).toFixed(0)} MiB = ${((peak - baseline) / imageMiB).toFixed(2)}×`,
  ],
];
const header: [string, string, string, string, string] = ['figure', 'classic engine', 'target', 'result', 'note'];
const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
const line = (r: readonly string[]): string => r.map((v, c) => v.padEnd(widths[c])).join('  ');
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const r of rows) console.log(line(r));
