/**
 * The built-in `classic` engine: CT segmentation without learned weights, on the CPU, from
 * thresholds, morphology and region growing (see each module). Class prompts: aorta (6, on
 * contrast-enhanced CT), lung (20, as one label), bone (21, as one label), trachea (57), spinal
 * cord (121) and airway (132). Point prompts: any object.
 *
 * Writing order: class masks are written into background voxels only, trachea first, then airway
 * (so with both asked, 57 keeps the trachea and 132 holds the bronchi), then lung, then the aorta,
 * then the spinal cord (inside the canal, never bone), then bone: where the aorta touches the spine,
 * the voxels the aorta's tube model claims stay aorta (bone's marrow growth reaches into a barely
 * enhanced lumen). The point object is written last and over class labels: a click is the most
 * specific thing a request says.
 *
 * The aorta needs contrast: a descending aorta whose lumen is enhanced or, where the tracker finds
 * none, a pool of contrast-filled blood (blood-pool.ts); a pool beside an unenhanced descending
 * aorta is positive oral contrast in the bowel. On a CT without it, asking for class 6 is
 * refused with VXG_ERR_IMAGE_NO_CONTRAST — except in everything-mode (every supported class asked,
 * which is how the pipeline expresses "segment everything"), where the aorta is left out and the
 * rest answered.
 * @module
 */
import type { Engine, EngineInfo, ProgressCallback, SegmentationPrompts } from '../engine.js';
import { VoxgateError, isVoxgateError } from '../../errors.js';
import { LABEL_GROUPS, LABEL_NAMES } from '../../pipeline/labels.js';
import { VERSION } from '../../version.js';
import type { LabelVolume, Volume } from '../../volume/volume.js';
import { createLabelVolume, createVolume } from '../../volume/volume.js';
import type { AxisCode } from '../../volume/affine.js';
import { axisCodes } from '../../volume/affine.js';
import type { Orientation } from '../../volume/reorient.js';
import { reorient } from '../../volume/reorient.js';
import { segmentAirway } from './airway.js';
import { segmentAorta } from './aorta.js';
import { coresOutside, findBloodPool } from './blood-pool.js';
import { bodyInBox } from './body-mask.js';
import type { BoneOptions } from './bone.js';
import { segmentBone } from './bone.js';
import { segmentSpinalCord } from './spinal-cord.js';
import type { Box, Grid } from './grid.js';
import { boundingBox, boxDims, cropArray, cropGrid, padBox, pasteLabel, pasteVoxels, spacingOf, superiorAxis } from './grid.js';
import { selectComponents } from './components.js';
import { assertCtHounsfield } from './intensity.js';
import { segmentLungs } from './lung.js';
import type { ClickTissue } from './point-prompt.js';
import { assertPointPrompt, segmentFromPoints } from './point-prompt.js';

/** A body box holding at least this share of the image is not cropped. */
const WHOLE_GRID_SHARE = 0.7;

export const CLASSIC_LABELS = { aorta: 6, lung: 20, bone: 21, trachea: 57, spinalCord: 121, airway: 132 } as const;

/** VISTA3D indices the classic engine answers from a class prompt, ascending. */
export const CLASSIC_SUPPORTED_CLASSES: readonly number[] = Object.freeze([6, 20, 21, 57, 121, 132]);

export const CLASSIC_ENGINE_INFO: EngineInfo = Object.freeze({
  name: 'classic',
  version: VERSION,
  description:
    'Built-in CPU engine without learned weights: lungs, bone, trachea and airway of CT by thresholds, morphology and region growing; the spinal cord by the vertebral canal; the aorta of contrast-enhanced CT by tube tracking; any object from point clicks by competitive region growing, a click labelled as a bone (a vertebra, a rib…) or as one of these classes giving that structure under it.',
  supportedClasses: CLASSIC_SUPPORTED_CLASSES,
  pointPrompts: true,
  license: 'Apache-2.0 (Voxgate classic engine: algorithms only, no model weights).',
});

/**
 * @example
 * const engine = new ClassicEngine();
 * const labels = await engine.segment(volume, { classes: [20, 21] }, (f, stage) => console.log(stage, f));
 */
export class ClassicEngine implements Engine {
  readonly info: EngineInfo = CLASSIC_ENGINE_INFO;
  #closed = false;

  isReady(): boolean {
    return !this.#closed;
  }

  async segment(volume: Volume, prompts: SegmentationPrompts, progress?: ProgressCallback): Promise<LabelVolume> {
    return segmentClassic(volume, prompts, progress);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}

/** Factory used by the worker entry (src/engines/worker-entry.ts). */
export function createClassicEngine(): ClassicEngine {
  return new ClassicEngine();
}

/** Median HU of the descending aorta's lumen above which it is enhanced (unenhanced blood: 30–70 HU). */
const ENHANCED_LUMEN_HU = 100;

/**
 * The aorta's refusal on a CT whose vessels carry no contrast: `lumenHu` is the descending aorta's
 * lumen when the tracker found it unenhanced beside a pool of 150–650 HU elsewhere (positive oral
 * contrast in the stomach and bowel), NaN otherwise.
 */
function noContrast(lumenHu = NaN): VoxgateError {
  const what = Number.isNaN(lumenHu)
    ? `no contrast-filled blood (no homogeneous 150–650 HU region of at least 20 mL, and no descending aorta whose lumen is ${ENHANCED_LUMEN_HU} HU or more)`
    : `no contrast in its vessels: the descending aorta's lumen is ${Math.round(lumenHu)} HU (enhanced blood is ${ENHANCED_LUMEN_HU} HU or more), and the 150–650 HU found elsewhere is not blood (oral contrast in the bowel)`;
  return new VoxgateError(
    'VXG_ERR_IMAGE_NO_CONTRAST',
    `The classic engine finds the aorta (class 6) only on contrast-enhanced CT, by its contrast-filled lumen, but this CT has ${what}. Send the arterial or portal-venous series, ask for the other classes, or click the aorta with point prompts.`,
  );
}

/** The classic segmentation, synchronous (the WorkerEngine runs it off the main thread). */
export function segmentClassic(volume: Volume, prompts: SegmentationPrompts, progress: ProgressCallback = () => {}): LabelVolume {
  const classes = new Set(prompts.classes);
  for (const c of classes) {
    if (!CLASSIC_SUPPORTED_CLASSES.includes(c)) {
      throw new VoxgateError('VXG_ERR_PROMPT_CLASS_UNSUPPORTED', `The classic engine cannot segment class ${c} from a class prompt; it segments ${CLASSIC_SUPPORTED_CLASSES.join(', ')}.`);
    }
  }
  if (prompts.points) assertPointPrompt(prompts.points, volume.dims);
  const everything = CLASSIC_SUPPORTED_CLASSES.every((c) => classes.has(c));
  const { data } = volume;
  let labels = classes.size > 0 ? classLabels(volume, classes, everything, progress) : new Uint8Array(data.length);

  if (prompts.points) {
    progress(0.9, 'points');
    // As for the classes, an image stored with permuted axes is clicked with its axes in world
    // order: the floods' ties follow the array (the MR example stored S, A, R: the spleen's click
    // agreed with itself at 0.913, the gallbladder's at 0.140).
    const ordered = reorient(volume, worldAxisOrder(volume.affine));
    const { volume: clicked, transform } = ordered;
    const onClicked = transform.isIdentity ? labels : transform.apply(labels);
    const points = { ...prompts.points, points: prompts.points.points.map((p) => transform.toOutputIndex(p)) };
    const tissue = clickTissue(clicked, points.label, classes, onClicked);
    // Only the flood's window is written: a click on a large image touches its window, not the volume.
    const { region, window } = segmentFromPoints(clicked.data, { dims: clicked.dims, affine: clicked.affine }, points, tissue);
    pasteLabel(region, onClicked, clicked.dims, window, points.label, true);
    if (!transform.isIdentity) labels = transform.invert(onClicked);
  }
  progress(1, 'done');
  return createLabelVolume(volume, labels);
}

/** The class prompts' labels (the caller has checked the classes): refused on an image that is not CT. */
function classLabels(volume: Volume, classes: ReadonlySet<number>, everything: boolean, progress: ProgressCallback): Uint8Array {
  assertCtHounsfield(volume.data);
  return classLabelsOfCt(volume, classes, everything, progress);
}

/** classLabels on an image known to be CT (a part of one may hold no air to tell it by). */
function classLabelsOfCt(volume: Volume, classes: ReadonlySet<number>, everything: boolean, progress: ProgressCallback, options: BoneOptions = {}): Uint8Array {
  // The class algorithms reason in world coordinates, but their coarse cells, rounding and ties
  // follow the array: stored with permuted axes (a sagittal or coronal series), patient B's aorta
  // came out 0.594 instead of 0.870. Such an image is segmented with its axes in world order.
  const ordered = reorient(volume, worldAxisOrder(volume.affine));
  return ordered.transform.isIdentity
    ? segmentClasses(volume, classes, everything, progress, options)
    : ordered.transform.invert(segmentClasses(ordered.volume, classes, everything, progress, options));
}

/** Labels of the vertebrae (C1–L5, L6, S1, by name): a click labelled so is cut out of the spine at the discs (vertebra.ts). */
const VERTEBRAE: ReadonlySet<number> = new Set([...LABEL_NAMES].filter(([, name]) => name.startsWith('vertebrae ')).map(([index]) => index));

/** The costal cartilages (VISTA3D 114), a member of the bone group but not bone (see BONE_MEMBERS). */
const COSTAL_CARTILAGES = 114;

/**
 * Labels whose clicks are on bone: the bone group (VISTA3D 21: the vertebrae, ribs, long bones,
 * sternum…) but the costal cartilages. Cartilage (100–180 HU) floods cleanly on its own, while the
 * skeleton joins it to the ribs it continues: patient C's costal cartilages after one click 0.606 as
 * flooded, 0.554 as the skeleton's piece (0.801 and 0.721 after three).
 */
const BONE_MEMBERS: ReadonlySet<number> = new Set(LABEL_GROUPS.get(CLASSIC_LABELS.bone)?.filter((l) => l !== COSTAL_CARTILAGES));

/**
 * What the engine knows of a clicked label (segmentFromPoints): for a class it answers (the aorta,
 * trachea, spinal cord, airway), that class's answer on the whole image (the aorta's tracker and the
 * canal need the anatomy around them); for a bone (BONE_MEMBERS), the skeleton around the click
 * window (the skeleton of a whole 512×512×300 CT took 2.2 s and 5.3× the image's memory for one
 * click; the window grows only for an object that reaches its side). VISTA3D's clicks are
 * label-aware in the same way: a click on "left rib 7" asks for that rib, not for whatever the
 * click's neighbourhood floods into. Nothing on an image that is not CT, or when the class cannot
 * be answered (the aorta without contrast): the clicks alone decide. `labels` holds the class
 * prompts' answer already computed for `asked`.
 */
function clickTissue(volume: Volume, label: number, asked: ReadonlySet<number>, labels: Uint8Array): ClickTissue | undefined {
  const bone = BONE_MEMBERS.has(label);
  const own = label !== CLASSIC_LABELS.lung && label !== CLASSIC_LABELS.bone && CLASSIC_SUPPORTED_CLASSES.includes(label);
  if (!bone && !own) return undefined;
  const value = bone ? CLASSIC_LABELS.bone : label;
  const { dims } = volume;
  const mask = (from: Uint8Array, fromDims: Volume['dims'], window: Box): Uint8Array => {
    const out = cropArray(from, fromDims, window);
    for (let p = 0; p < out.length; p++) out[p] = out[p] === value ? 1 : 0;
    return out;
  };
  const vertebraAxis = bone && VERTEBRAE.has(label) ? superiorAxis({ dims, affine: volume.affine }).axis : undefined;
  // An answer on the whole grid. A class's pieces under the clicks are the object: the window
  // starts as their bounds. The skeleton's are the spine with the ribs, or more: not for bone.
  const onGrid = (whole: Uint8Array): ClickTissue => ({
    kind: bone ? 'tissue' : 'object',
    vertebraAxis,
    inWindow: (window) => mask(whole, dims, window),
    reach: bone
      ? undefined
      : (points) => {
          const all: Box = { min: [0, 0, 0], max: [dims[0] - 1, dims[1] - 1, dims[2] - 1] };
          const flat = points.map((p) => p[0] + dims[0] * (p[1] + dims[1] * p[2]));
          return boundingBox(selectComponents(mask(whole, dims, all), dims, flat, 6), dims);
        },
  });
  if (asked.has(value)) return onGrid(labels);
  // Told by the whole image: a window inside the body may hold no air.
  try {
    assertCtHounsfield(volume.data);
  } catch {
    return undefined;
  }
  if (!bone) {
    try {
      return onGrid(classLabelsOfCt(volume, new Set([value]), false, () => {}));
    } catch (err) {
      if (isVoxgateError(err, 'VXG_ERR_IMAGE_NO_CONTRAST')) return undefined;
      throw err;
    }
  }
  // The skeleton is found in the window widened by BONE_MARGIN_MM, and kept for a grown window
  // that still lies inside that box (the first growth of the window, usually the last).
  let found: { box: Box; labels: Uint8Array } | undefined;
  const margin = spacingOf({ dims, affine: volume.affine }).map((s) => Math.ceil(BONE_MARGIN_MM / s)) as [number, number, number];
  return {
    kind: 'tissue',
    vertebraAxis,
    inWindow: (window) => {
      if (!found || !contains(found.box, window)) {
        const box = padBox(window, margin, dims);
        // Without the costal cartilage: it is not the clicked bone (a rib's front end continues as
        // cartilage), and it is a tenth of the click's time.
        found = { box, labels: classLabelsOfCt(cropVolume(volume, box), new Set([value]), false, () => {}, { cartilage: false }) };
      }
      return mask(found.labels, boxDims(found.box), { min: minus(window.min, found.box.min), max: minus(window.max, found.box.min) });
    },
  };
}

/** How far (mm) beyond a click window the skeleton is found for a click labelled as a bone (clickTissue). */
const BONE_MARGIN_MM = 40;

function contains(outer: Box, inner: Box): boolean {
  return [0, 1, 2].every((a) => outer.min[a] <= inner.min[a] && inner.max[a] <= outer.max[a]);
}

function minus(a: readonly number[], b: readonly number[]): [number, number, number] {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
}

/** The part of `volume` in `box`, as a volume of its own (same world positions). */
function cropVolume(volume: Volume, box: Box): Volume {
  const grid = cropGrid({ dims: volume.dims, affine: volume.affine }, box);
  return createVolume(grid.dims, cropArray(volume.data, volume.dims, box), grid.affine);
}

/**
 * The class prompts' labels on `volume`'s grid (the caller has checked the classes and that the image
 * is CT).
 */
function segmentClasses(volume: Volume, classes: ReadonlySet<number>, everything: boolean, progress: ProgressCallback, options: BoneOptions = {}): Uint8Array {
  const { data, dims } = volume;
  const grid: Grid = { dims, affine: volume.affine };
  const labels = new Uint8Array(data.length);
  progress(0, 'body');
  // Everything else runs on the body's box: a chest CT's air around the patient is skipped. A box
  // that is most of the image is not worth a copy of the image (peak memory): then the whole grid.
  const found = bodyInBox(data, grid, WHOLE_GRID_SHARE);
  if (found) {
    const { box, whole, mask: subBody } = found;
    const sub = whole ? grid : cropGrid(grid, box);
    const subData = whole ? data : cropArray(data, dims, box);
    const write = (mask: Uint8Array, label: number): void => pasteLabel(mask, labels, dims, box, label);
    // A box-sized mask already written into the labels: the next step builds its mask in it (its
    // pages are resident already; V8 does not free the old one during this synchronous call).
    let spare: Uint8Array | undefined;
    const wantAirway = classes.has(CLASSIC_LABELS.airway) || classes.has(CLASSIC_LABELS.trachea) || classes.has(CLASSIC_LABELS.lung);
    if (wantAirway) {
      progress(0.2, 'airway');
      const airway = segmentAirway(subData, sub, subBody);
      // Without an airway its masks are empty and were never written: reading them would only make their pages resident.
      if (airway.found && classes.has(CLASSIC_LABELS.trachea)) write(airway.trachea, CLASSIC_LABELS.trachea);
      if (airway.found && classes.has(CLASSIC_LABELS.airway)) write(airway.airway, CLASSIC_LABELS.airway);
      if (classes.has(CLASSIC_LABELS.lung)) {
        progress(0.4, 'lung');
        const lung = segmentLungs(subData, sub, subBody, airway.found ? airway.airway : undefined);
        write(lung, CLASSIC_LABELS.lung);
        spare = lung;
      }
    }
    const wantAorta = classes.has(CLASSIC_LABELS.aorta);
    const wantCord = classes.has(CLASSIC_LABELS.spinalCord);
    if (wantAorta || wantCord || classes.has(CLASSIC_LABELS.bone)) {
      progress(0.6, 'blood');
      const blood = findBloodPool(subData, sub, subBody);
      progress(0.7, 'bone');
      // The aorta's seeds must not sit on the spine: bone is found first (and written after it).
      const wantBone = classes.has(CLASSIC_LABELS.bone);
      const skeleton = segmentBone(subData, sub, subBody, blood, spare, { ...options, surface: wantBone });
      const bone = skeleton.mask;
      // The aorta also when only bone is asked, on a CT with enhanced vessels: where the enhanced
      // aorta touches the spine, bone's marrow growth and hole filling take part of it (patient C:
      // 3 549 of its 11 723 voxels, B 9 107), and bone alone must be the same skeleton as bone
      // asked with the aorta. Without a core of homogeneous 150–650 HU outside bone there is no
      // enhanced aorta to find (the search is 0.45 s of a labelled click's skeleton on the bench's
      // 512×512×300 CT; a dense vertebra's marrow makes cores too, inside bone).
      let aortaMask: Uint8Array | undefined;
      if (wantAorta || (wantBone && coresOutside(blood, bone, sub))) {
        progress(0.8, 'aorta');
        const aorta = segmentAorta(subData, sub, subBody, bone);
        // A CT angiogram has its pool of blood; a portal-venous slab too short to hold 20 mL of
        // blood in one vessel has an enhanced aortic lumen. Neither: no contrast. Where the tracker
        // found the descending aorta, its lumen decides: a pool beside an unenhanced aorta is
        // positive oral contrast in the stomach and bowel (the aorta's answer was empty there).
        const found = !Number.isNaN(aorta.lumenHu);
        const contrast = found ? aorta.lumenHu >= ENHANCED_LUMEN_HU : blood.contrast;
        if (wantAorta && !contrast && !everything) throw noContrast(found && blood.contrast ? aorta.lumenHu : NaN);
        if (contrast) aortaMask = aorta.mask;
        if (contrast && wantAorta) write(aorta.mask, CLASSIC_LABELS.aorta);
      }
      if (wantCord) {
        progress(0.85, 'spinal cord');
        pasteVoxels(segmentSpinalCord(subData, sub, subBody, bone), labels, dims, box, CLASSIC_LABELS.spinalCord);
      }
      if (wantBone) {
        if (aortaMask && !wantAorta) for (let p = 0; p < bone.length; p++) bone[p] &= aortaMask[p] ^ 1;
        // The bones' surfaces at half maximum (half-maximum.ts), once the canal and the aorta are found.
        for (const p of skeleton.partialVolume) bone[p] = 0;
        write(bone, CLASSIC_LABELS.bone);
      }
    }
  }
  return labels;
}

/** The orientation whose array axes run along x, y and z in that order, each in its own direction. */
function worldAxisOrder(affine: Volume['affine']): Orientation {
  const codes = axisCodes(affine);
  const along = (world: readonly AxisCode[]): AxisCode => codes.find((c) => world.includes(c)) as AxisCode;
  return [along(['R', 'L']), along(['A', 'P']), along(['S', 'I'])];
}
