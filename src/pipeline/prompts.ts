/**
 * NIM prompts → engine prompts, with every rule of the VISTA3D API: names or indices,
 * case-insensitive; groups 2/20/21; "everything" when empty; one point object per request;
 * zero-shot labels for unknown point keys; points as file-order voxel indices inside the image.
 * @module
 */
import { VoxgateError } from '../errors.js';
import type { EngineInfo, PointPrompt, SegmentationPrompts, VoxelPoint } from '../engines/engine.js';
import type { Dims } from '../volume/volume.js';
import { LABEL_GROUPS, MAX_LABEL_INDEX, NOT_COMPUTED, labelIndexOf, labelName } from './labels.js';

/** Prompts as the NIM API receives them (already schema-checked). */
export interface NimPrompts {
  classes?: readonly (string | number)[];
  points?: Readonly<Record<string, readonly (readonly number[])[]>>;
  point_labels?: Readonly<Record<string, readonly number[]>>;
}

/** Prompts resolved before the image is read; points are checked against the image later. */
export interface ResolvedPrompts {
  readonly classes: readonly number[];
  readonly points?: PointPrompt;
  /** Zero-shot names given a new index (reported in a response header). */
  readonly zeroShot: Readonly<Record<string, number>>;
}

const FIRST_ZERO_SHOT = MAX_LABEL_INDEX + 1;

function invalid(message: string): VoxgateError {
  return new VoxgateError('VXG_ERR_PROMPT_INVALID', message);
}

function describeSupported(engine: EngineInfo): string {
  return engine.supportedClasses.map((c) => `${c} (${labelName(c) ?? engine.extraLabels?.[c] ?? 'unnamed'})`).join(', ');
}

/** Resolves NIM prompts against what `engine` can do. Throws 400-class VoxgateErrors. */
export function resolvePrompts(prompts: NimPrompts | undefined, engine: EngineInfo): ResolvedPrompts {
  const classes = resolveClasses(prompts?.classes ?? [], engine);
  const { points, zeroShot } = resolvePoints(prompts, engine);
  // No classes and no points: "segment everything" the engine supports.
  const everything = classes.length === 0 && !points;
  return { classes: everything ? [...engine.supportedClasses] : classes, points, zeroShot };
}

/** An engine's own label (EngineInfo.extraLabels, 133–254) by index or case-insensitive name. */
function extraLabelIndex(value: string | number, engine: EngineInfo): number | undefined {
  const extra = Object.entries(engine.extraLabels ?? {});
  if (typeof value === 'number' || /^\d+$/.test(value.trim())) return extra.find(([index]) => Number(index) === Number(value)) ? Number(value) : undefined;
  const name = value.trim().toLowerCase();
  const found = extra.find(([, n]) => n.toLowerCase() === name);
  return found ? Number(found[0]) : undefined;
}

function classIndex(value: string | number, engine: EngineInfo): number {
  // VISTA3D's names come first; an engine's own labels (an ONNX model's "grey matter") after them.
  if (labelIndexOf(String(value)) === undefined) {
    const extra = extraLabelIndex(value, engine);
    if (extra !== undefined) return extra;
  }
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 1 || value > MAX_LABEL_INDEX) {
      throw new VoxgateError('VXG_ERR_PROMPT_CLASS_UNSUPPORTED', `Class ${value} is not a VISTA3D label index (1–${MAX_LABEL_INDEX}).`);
    }
    return value;
  }
  const index = labelIndexOf(value) ?? (/^\d+$/.test(value.trim()) ? Number(value) : undefined);
  if (index === undefined || index < 1 || index > MAX_LABEL_INDEX) {
    throw new VoxgateError('VXG_ERR_PROMPT_CLASS_UNSUPPORTED', `Unknown class "${value}": a class prompt must name a VISTA3D label (see /v1/vista3d/info); for another object, click it with points.`);
  }
  return index;
}

function resolveClasses(requested: readonly (string | number)[], engine: EngineInfo): number[] {
  const supported = new Set(engine.supportedClasses);
  const out: number[] = [];
  for (const value of requested) {
    const index = classIndex(value, engine);
    let resolved: readonly number[] | undefined;
    if (supported.has(index)) resolved = [index];
    else {
      const members = LABEL_GROUPS.get(index);
      if (members && members.every((m) => supported.has(m))) resolved = members;
    }
    if (!resolved) {
      throw new VoxgateError(
        'VXG_ERR_PROMPT_CLASS_UNSUPPORTED',
        `The ${engine.name} engine cannot segment class ${index} (${labelName(index)}) from a class prompt. It can segment: ${describeSupported(engine)}.${engine.pointPrompts ? ' Other structures can be segmented with point prompts.' : ''}`,
      );
    }
    for (const r of resolved) if (!out.includes(r)) out.push(r);
  }
  return out;
}

function resolvePoints(prompts: NimPrompts | undefined, engine: EngineInfo): { points?: PointPrompt; zeroShot: Record<string, number> } {
  const entries = Object.entries(prompts?.points ?? {});
  const labelsByKey = prompts?.point_labels ?? {};
  for (const key of Object.keys(labelsByKey)) {
    if (!entries.some(([k]) => k === key)) throw invalid(`point_labels has key "${key}" with no matching points.`);
  }
  if (entries.length === 0) return { zeroShot: {} };
  if (!engine.pointPrompts) {
    throw invalid(`The ${engine.name} engine does not take point prompts.`);
  }
  if (entries.length > 1) {
    throw invalid(`Points segment one object per request; this request has points for ${entries.length} objects (${entries.map(([k]) => k).join(', ')}). Send one request per object.`);
  }
  const [key, points] = entries[0];
  if (points.length === 0) throw invalid(`Points for "${key}" are empty; give at least one [x, y, z] voxel index.`);
  const zeroShot: Record<string, number> = {};
  let label: number;
  const byName = labelIndexOf(key);
  if (byName !== undefined) label = byName;
  else if (/^\d+$/.test(key.trim())) {
    label = Number(key);
    if (label < 1 || label >= NOT_COMPUTED) throw invalid(`Point key ${label} is not a usable label index (1–254).`);
  } else {
    label = FIRST_ZERO_SHOT;
    zeroShot[key] = label;
  }
  if (LABEL_GROUPS.has(label)) {
    throw invalid(`Points cannot be combined with the group label ${label} (${labelName(label)}); click with a member label instead (e.g. ${LABEL_GROUPS.get(label)?.slice(0, 2).join(' or ')}).`);
  }
  const pointLabels = labelsByKey[key];
  if (pointLabels && pointLabels.length !== points.length) {
    throw invalid(`point_labels for "${key}" has ${pointLabels.length} entries but there are ${points.length} points; give one 0/1 per point.`);
  }
  if (pointLabels?.some((l) => l !== 0 && l !== 1)) throw invalid(`point_labels for "${key}" must hold only 0 (outside) and 1 (inside).`);
  const labels = (pointLabels ?? points.map(() => 1)) as (0 | 1)[];
  if (!labels.includes(1)) throw invalid(`Points for "${key}" need at least one positive point (point_labels 1).`);
  return {
    points: { label, points: points.map((p) => [p[0], p[1], p[2]] as VoxelPoint), pointLabels: labels },
    zeroShot,
  };
}

/** Checks every point lies inside the image (zero-based, file order). */
export function checkPointsInside(points: PointPrompt | undefined, dims: Dims): void {
  for (const p of points?.points ?? []) {
    if (p.some((v, axis) => v < 0 || v >= dims[axis])) {
      throw new VoxgateError(
        'VXG_ERR_PROMPT_POINT_OUTSIDE',
        `Point [${p.join(', ')}] is outside the image of size ${dims.join(' × ')}; points are zero-based voxel indices (i, j, k) in file order.`,
      );
    }
  }
}

/** The engine prompts for a resolved request. */
export function enginePrompts(resolved: ResolvedPrompts): SegmentationPrompts {
  return resolved.points ? { classes: resolved.classes, points: resolved.points } : { classes: resolved.classes };
}
