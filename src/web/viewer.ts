/**
 * The image viewer: NiiVue on one canvas. Shows the volume (slices, multiplanar, 3D render, CT
 * windows), the label overlay with one colour per label, and the clicked points as markers; reports
 * clicks on 2D slices as world millimetres (RAS), which voxel-index.ts turns into the file's indices.
 * @module
 */
import { NVImage, Niivue, SHOW_RENDER, SLICE_TYPE } from '@niivue/niivue';
import type { Rgb } from './label-stats.js';
import type { Triple } from './voxel-index.js';
import { flatAffine } from './voxel-index.js';

export type ViewKind = 'axial' | 'coronal' | 'sagittal' | 'multiplanar' | 'render';

const SLICE_TYPES: Readonly<Record<ViewKind, SLICE_TYPE>> = {
  axial: SLICE_TYPE.AXIAL,
  coronal: SLICE_TYPE.CORONAL,
  sagittal: SLICE_TYPE.SAGITTAL,
  multiplanar: SLICE_TYPE.MULTIPLANAR,
  render: SLICE_TYPE.RENDER,
};

/** CT windows (width / level in HU) radiologists use. */
export const WINDOW_PRESETS = {
  soft: { label: 'Soft tissue', width: 400, level: 40 },
  lung: { label: 'Lung', width: 1500, level: -600 },
  bone: { label: 'Bone', width: 2000, level: 300 },
  brain: { label: 'Brain', width: 80, level: 40 },
} as const;
export type WindowPreset = keyof typeof WINDOW_PRESETS;

/** The loaded file's geometry, in file order: what point indices refer to. */
export interface ImageGeometry {
  /** Row-major 4×4, file-order voxel index → RAS mm (the affine NiiVue read from the file). */
  affine: number[];
  dims: [number, number, number];
}

export interface Marker {
  mm: Triple;
  positive: boolean;
}

/** nifti1.h: the voxel values are indices into a list of labels. */
const NIFTI_INTENT_LABEL = 1002;
/** Drawing-layer values: NiiVue's default drawing colours are 1 red, 2 green. */
const PEN_NEGATIVE = 1;
const PEN_POSITIVE = 2;
/** Marker radius in voxels of the displayed (RAS) grid. */
const MARKER_RADIUS = 3;
/** A press that moves more than this (CSS px) is a drag (pan, window, rotate), not a click. */
const CLICK_SLOP = 5;

export class Viewer {
  readonly nv: Niivue;
  readonly canvas: HTMLCanvasElement;
  /** Called with the world position (RAS mm) of a click on a 2D slice while picking is on. */
  onPick: ((mm: Triple) => void) | undefined;
  picking = false;
  #labels: NVImage | undefined;
  #labelOpacity = 0.6;
  #down: { x: number; y: number } | undefined;

  constructor(canvas: HTMLCanvasElement) {
    this.canvas = canvas;
    this.nv = new Niivue({
      backColor: [0.06, 0.07, 0.09, 1],
      crosshairColor: [0.98, 0.8, 0.25, 0.55],
      crosshairWidth: 1,
      // Leave the clicked spot itself visible (the point markers sit there).
      crosshairGap: 12,
      show3Dcrosshair: false,
      isColorbar: false,
      isOrientCube: false,
      dragAndDropEnabled: false,
      // Radiological display: the patient's right on the screen's left, nose left on sagittal.
      isRadiologicalConvention: true,
      sagittalNoseLeft: true,
      multiplanarShowRender: SHOW_RENDER.ALWAYS,
      loadingText: 'Open an image to start',
      fontColor: [0.75, 0.78, 0.85, 1],
      drawingEnabled: false,
    });
    canvas.addEventListener('pointerdown', (e) => {
      this.#down = e.button === 0 ? { x: e.clientX, y: e.clientY } : undefined;
    });
    canvas.addEventListener('pointerup', (e) => this.#pointerUp(e));
  }

  async attach(): Promise<void> {
    await this.nv.attachToCanvas(this.canvas);
    this.nv.setSliceType(SLICE_TYPE.MULTIPLANAR);
  }

  /** Shows a NIfTI / NRRD file from its bytes; replaces whatever was shown. */
  async loadImage(bytes: ArrayBuffer, name: string): Promise<ImageGeometry> {
    this.clear();
    const image = await NVImage.loadFromUrl({ url: bytes.slice(0), name: displayName(bytes, name), colormap: 'gray' });
    this.nv.addVolume(image);
    this.nv.createEmptyDrawing();
    this.nv.setDrawOpacity(0.95);
    this.setWindow('soft');
    const geometry = this.geometry();
    if (!geometry) throw new Error(`${name} has no usable geometry (an affine and three dimensions).`);
    return geometry;
  }

  get hasImage(): boolean {
    return this.nv.volumes.length > 0;
  }

  /** The background image's file-order geometry, from the header NiiVue read. */
  geometry(): ImageGeometry | null {
    const hdr = this.nv.volumes[0]?.hdr;
    if (!hdr) return null;
    const dims: [number, number, number] = [hdr.dims[1], hdr.dims[2], Math.max(1, hdr.dims[3])];
    return { affine: flatAffine(hdr.affine), dims };
  }

  clear(): void {
    this.#labels = undefined;
    for (const volume of [...this.nv.volumes].reverse()) this.nv.removeVolume(volume);
  }

  setView(kind: ViewKind): void {
    this.nv.setSliceType(SLICE_TYPES[kind]);
  }

  /** Applies a CT window (width / level in HU) to the image. */
  setWindow(preset: WindowPreset): void {
    const back = this.nv.volumes[0];
    if (!back) return;
    const { width, level } = WINDOW_PRESETS[preset];
    back.cal_min = level - width / 2;
    back.cal_max = level + width / 2;
    this.nv.updateGLVolume();
  }

  /** Redraws the markers of the clicked points into NiiVue's drawing layer (shown on every view). */
  setMarkers(markers: readonly Marker[]): void {
    const back = this.nv.volumes[0];
    const dims = back?.dimsRAS;
    if (!back || !dims) return;
    if (!this.nv.drawBitmap) this.nv.createEmptyDrawing();
    const bitmap = this.nv.drawBitmap;
    if (!bitmap) return;
    bitmap.fill(0);
    const [nx, ny, nz] = [dims[1], dims[2], dims[3]];
    for (const marker of markers) {
      // The drawing layer lies on NiiVue's RAS-reoriented grid: world mm → texture fraction → voxel.
      const frac = this.nv.mm2frac([marker.mm[0], marker.mm[1], marker.mm[2]], 0, true);
      const c = [0, 1, 2].map((a) => Math.round(frac[a] * [nx, ny, nz][a] - 0.5));
      const pen = marker.positive ? PEN_POSITIVE : PEN_NEGATIVE;
      for (let dz = -MARKER_RADIUS; dz <= MARKER_RADIUS; dz++) {
        for (let dy = -MARKER_RADIUS; dy <= MARKER_RADIUS; dy++) {
          for (let dx = -MARKER_RADIUS; dx <= MARKER_RADIUS; dx++) {
            if (dx * dx + dy * dy + dz * dz > MARKER_RADIUS * MARKER_RADIUS + 1) continue;
            const [x, y, z] = [c[0] + dx, c[1] + dy, c[2] + dz];
            if (x < 0 || y < 0 || z < 0 || x >= nx || y >= ny || z >= nz) continue;
            bitmap[x + nx * (y + ny * z)] = pen;
          }
        }
      }
    }
    this.nv.refreshDrawing(true);
  }

  /** Moves the crosshair (and so the slices shown) to a world position. */
  goTo(mm: Triple): void {
    this.nv.scene.crosshairPos = this.nv.mm2frac([mm[0], mm[1], mm[2]], 0, true);
    this.nv.updateGLVolume();
  }

  /**
   * Shows a label map (the API's answer) over the image, with `colors[index]` per label; labels
   * missing from `colors` are transparent. Returns its voxel values for the legend.
   */
  async showLabels(bytes: ArrayBuffer, name: string, colors: ReadonlyMap<number, Rgb>): Promise<ArrayLike<number>> {
    if (this.#labels) this.nv.removeVolume(this.#labels);
    const labels = await NVImage.loadFromUrl({ url: bytes.slice(0), name: displayName(bytes, name), opacity: this.#labelOpacity });
    // NiiVue draws indexed colours exactly only for NIFTI_INTENT_LABEL images (its atlas shader);
    // otherwise it rounds the lowest values up and paints background in label 1's colour.
    if (labels.hdr) labels.hdr.intent_code = NIFTI_INTENT_LABEL;
    labels.setColormapLabel(labelColormap(colors, new Set()));
    this.nv.addVolume(labels);
    this.#labels = labels;
    this.nv.setOpacity(this.nv.volumes.indexOf(labels), this.#labelOpacity);
    if (!labels.img) throw new Error('The label map has no voxel data.');
    return labels.img;
  }

  /** Hides the labels in `hidden`, shows the others. */
  setHiddenLabels(colors: ReadonlyMap<number, Rgb>, hidden: ReadonlySet<number>): void {
    if (!this.#labels) return;
    this.#labels.setColormapLabel(labelColormap(colors, hidden));
    this.nv.updateGLVolume();
  }

  setLabelOpacity(opacity: number): void {
    this.#labelOpacity = opacity;
    if (!this.#labels) return;
    this.nv.setOpacity(this.nv.volumes.indexOf(this.#labels), opacity);
  }

  get hasLabels(): boolean {
    return this.#labels !== undefined;
  }

  /** Canvas position (CSS px from the canvas' top left) where `mm` is drawn, if on a 2D slice. */
  canvasPositionOf(mm: Triple): [number, number] | null {
    const pos = this.nv.frac2canvasPos(this.nv.mm2frac([mm[0], mm[1], mm[2]], 0, true));
    if (!pos) return null;
    const dpr = this.nv.uiData.dpr ?? window.devicePixelRatio;
    return [pos[0] / dpr, pos[1] / dpr];
  }

  /** World mm under a canvas position (CSS px), or null outside the 2D slices. */
  worldAt(x: number, y: number): Triple | null {
    const dpr = this.nv.uiData.dpr ?? window.devicePixelRatio;
    const frac = this.nv.canvasPos2frac([x * dpr, y * dpr]);
    if (frac[0] < 0) return null;
    // isForceSliceMM: the exact world position of that texture point (also for oblique images,
    // where NiiVue's default orthogonal frame is only an approximation).
    const mm = this.nv.frac2mm(frac, 0, true);
    return [mm[0], mm[1], mm[2]];
  }

  #pointerUp(e: PointerEvent): void {
    const down = this.#down;
    this.#down = undefined;
    if (!down || !this.picking || !this.onPick || !this.hasImage || e.button !== 0) return;
    if (Math.hypot(e.clientX - down.x, e.clientY - down.y) > CLICK_SLOP) return;
    const rect = this.canvas.getBoundingClientRect();
    const mm = this.worldAt(e.clientX - rect.left, e.clientY - rect.top);
    if (mm) this.onPick(mm);
  }
}

/** A NiiVue label colour table for indices 0..max: background and hidden labels transparent. */
function labelColormap(colors: ReadonlyMap<number, Rgb>, hidden: ReadonlySet<number>) {
  const max = Math.max(1, ...colors.keys());
  const R: number[] = [];
  const G: number[] = [];
  const B: number[] = [];
  const A: number[] = [];
  const I: number[] = [];
  const labels: string[] = [];
  for (let index = 0; index <= max; index++) {
    const rgb = colors.get(index);
    const visible = index !== 0 && rgb !== undefined && !hidden.has(index);
    R.push(rgb?.[0] ?? 0);
    G.push(rgb?.[1] ?? 0);
    B.push(rgb?.[2] ?? 0);
    A.push(visible ? 255 : 0);
    I.push(index);
    labels.push(String(index));
  }
  return { R, G, B, A, I, labels };
}

/** NiiVue picks its reader by the name's extension: make sure the name has the right one. */
function displayName(bytes: ArrayBuffer, name: string): string {
  if (/\.(nii|nii\.gz|nrrd|nhdr)$/i.test(name)) return name;
  const head = new Uint8Array(bytes, 0, Math.min(4, bytes.byteLength));
  if (String.fromCharCode(...head) === 'NRRD') return `${name || 'image'}.nrrd`;
  if (head[0] === 0x1f && head[1] === 0x8b) return `${name || 'image'}.nii.gz`;
  return `${name || 'image'}.nii`;
}
