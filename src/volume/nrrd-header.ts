/**
 * The NRRD text header: fields parsed and checked, and the geometry (dims, RAS affine) they give.
 * Names and aliases follow teem's nrrd library (http://teem.sourceforge.net/nrrd/format.html),
 * which matches field, type, encoding, kind and space names without regard to case.
 * @module
 */
import { VoxgateError } from '../errors.js';
import type { Affine, Vec3 } from './affine.js';
import { affineFrom, assertValidAffine, columnNorms, flipXY } from './affine.js';
import type { DataType } from './datatype.js';
import type { Dims } from './volume.js';

/** The world frames Voxgate reads: NRRD's 3D patient spaces. */
export const NrrdSpaces = ['left-posterior-superior', 'right-anterior-superior', 'left-anterior-superior'] as const;
export type NrrdSpace = (typeof NrrdSpaces)[number];

export type NrrdEncoding = 'raw' | 'gzip' | 'ascii' | 'hex';

export interface NrrdHeader {
  /** N of the `NRRD000N` magic, 1 to 5. */
  readonly version: number;
  readonly dataType: DataType;
  readonly dimension: number;
  readonly sizes: readonly number[];
  readonly encoding: NrrdEncoding;
  /** From `endian`; undefined when the field is absent. */
  readonly littleEndian: boolean | undefined;
  readonly space?: NrrdSpace;
  /** One entry per axis: a vector in `space`, or null for `none` (a non-spatial axis). */
  readonly spaceDirections?: readonly (Vec3 | null)[];
  readonly spaceOrigin?: Vec3;
  /** One entry per axis; NaN for `nan`. */
  readonly spacings?: readonly number[];
  /** One entry per axis, lower case. */
  readonly kinds?: readonly string[];
  readonly lineSkip: number;
  readonly byteSkip: number;
}

/** `type` names and their aliases (teem's nrrdType table). */
const TYPE_NAMES: Readonly<Record<string, DataType | 'int64' | 'uint64' | 'block'>> = {
  'signed char': 'int8', 'int8': 'int8', 'int8_t': 'int8',
  'uchar': 'uint8', 'unsigned char': 'uint8', 'uint8': 'uint8', 'uint8_t': 'uint8',
  'short': 'int16', 'short int': 'int16', 'signed short': 'int16', 'signed short int': 'int16', 'int16': 'int16', 'int16_t': 'int16',
  'ushort': 'uint16', 'unsigned short': 'uint16', 'unsigned short int': 'uint16', 'uint16': 'uint16', 'uint16_t': 'uint16',
  'int': 'int32', 'signed int': 'int32', 'int32': 'int32', 'int32_t': 'int32',
  'uint': 'uint32', 'unsigned int': 'uint32', 'uint32': 'uint32', 'uint32_t': 'uint32',
  'longlong': 'int64', 'long long': 'int64', 'long long int': 'int64', 'signed long long': 'int64', 'signed long long int': 'int64', 'int64': 'int64', 'int64_t': 'int64',
  'ulonglong': 'uint64', 'unsigned long long': 'uint64', 'unsigned long long int': 'uint64', 'uint64': 'uint64', 'uint64_t': 'uint64',
  'float': 'float32',
  'double': 'float64',
  'block': 'block',
};

/** The canonical NRRD `type` name Voxgate writes for each data type. */
export const NRRD_TYPE_OF: Readonly<Record<DataType, string>> = {
  int8: 'signed char', uint8: 'unsigned char', int16: 'short', uint16: 'unsigned short',
  int32: 'int', uint32: 'unsigned int', float32: 'float', float64: 'double',
};

const SPACE_NAMES: Readonly<Record<string, NrrdSpace>> = {
  'left-posterior-superior': 'left-posterior-superior', 'lps': 'left-posterior-superior',
  'right-anterior-superior': 'right-anterior-superior', 'ras': 'right-anterior-superior',
  'left-anterior-superior': 'left-anterior-superior', 'las': 'left-anterior-superior',
};

const ENCODING_NAMES: Readonly<Record<string, NrrdEncoding | 'bzip2'>> = {
  raw: 'raw', txt: 'ascii', text: 'ascii', ascii: 'ascii', hex: 'hex', gz: 'gzip', gzip: 'gzip', bz2: 'bzip2', bzip2: 'bzip2',
};

/**
 * Every field teem knows, by its name with the spaces taken out (`data file` and `datafile` are one
 * field). Unknown fields are refused as teem refuses them: a misspelt `space direction` must not
 * silently drop the orientation.
 */
const KNOWN_FIELDS = new Set([
  'content', 'number', 'type', 'blocksize', 'dimension', 'space', 'spacedimension', 'sizes', 'spacedirections',
  'kinds', 'endian', 'encoding', 'min', 'max', 'oldmin', 'oldmax', 'datafile', 'lineskip', 'byteskip', 'spaceorigin',
  'spaceunits', 'measurementframe', 'spacings', 'thicknesses', 'axismins', 'axismaxs', 'centers', 'centerings', 'labels',
  'units', 'sampleunits',
]);

/** Axis kinds that can be one of the three spatial axes (the rest are vectors, lists, colours, time). */
const SPATIAL_KINDS = new Set(['domain', 'space', '???', 'none']);

function headerError(message: string): VoxgateError {
  return new VoxgateError('VXG_ERR_VOLUME_HEADER', message);
}

/**
 * Parses the header's text: the magic line and every line up to (not including) the blank line that
 * ends it. Refuses detached data, and types, encodings and spaces Voxgate does not read.
 */
export function parseNrrdHeader(text: string): NrrdHeader {
  const lines = text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  const magic = /^NRRD000([1-5])$/.exec(lines[0]);
  if (!magic) throw new VoxgateError('VXG_ERR_VOLUME_FORMAT', `Not a NRRD file Voxgate reads: the first line is not NRRD0001 to NRRD0005.`);
  const fields = new Map<string, string>();
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n];
    if (line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon < 0) throw headerError(`NRRD header line ${n + 1} ("${clip(line)}") is neither "field: value", "key:=value" nor a # comment.`);
    if (line[colon + 1] === '=') continue; // key:=value pairs carry no geometry
    const name = line.slice(0, colon).trim().toLowerCase().replace(/\s+/g, '');
    if (!KNOWN_FIELDS.has(name)) throw headerError(`NRRD header line ${n + 1} names an unknown field "${clip(line.slice(0, colon))}".`);
    if (fields.has(name)) throw headerError(`The NRRD header gives the field "${clip(line.slice(0, colon).trim())}" twice.`);
    fields.set(name, line.slice(colon + 1).trim());
  }
  if (fields.has('datafile')) {
    throw new VoxgateError(
      'VXG_ERR_VOLUME_FORMAT',
      `This NRRD header keeps its voxel data in a separate file (data file: ${clip(fields.get('datafile') ?? '')}); send a single .nrrd with attached data instead (e.g. save as .nrrd in 3D Slicer or with SimpleITK).`,
    );
  }
  const need = (name: string, label: string): string => {
    const value = fields.get(name);
    if (value === undefined) throw headerError(`The NRRD header has no "${label}" field.`);
    return value;
  };

  const dataType = parseType(need('type', 'type'));
  const dimension = parseInteger(need('dimension', 'dimension'), 'dimension');
  if (dimension < 1 || dimension > 16) throw headerError(`NRRD dimension ${dimension} is not between 1 and 16.`);
  const sizes = perAxis(need('sizes', 'sizes'), 'sizes', dimension).map((s) => parseInteger(s, 'sizes'));
  if (sizes.some((s) => s < 1)) throw headerError(`NRRD sizes ${sizes.join(' ')} must all be at least 1.`);
  const encoding = parseEncoding(need('encoding', 'encoding'));

  const endian = fields.get('endian')?.toLowerCase();
  if (endian !== undefined && endian !== 'little' && endian !== 'big') throw headerError(`NRRD endian "${clip(endian)}" is neither little nor big.`);
  if (endian === undefined && encoding !== 'ascii' && dataType !== 'uint8' && dataType !== 'int8') {
    throw headerError(`The NRRD header has no "endian" field, which ${dataType} data in ${encoding} encoding needs.`);
  }

  const space = parseSpace(fields.get('space'));
  const spaceDimensionText = fields.get('spacedimension');
  if (spaceDimensionText !== undefined) {
    const spaceDimension = parseInteger(spaceDimensionText, 'space dimension');
    if (spaceDimension !== 3) throw headerError(`NRRD space dimension ${spaceDimension} is not 3; Voxgate reads 3D patient spaces.`);
    if (!space) {
      throw headerError('The NRRD header has "space dimension" but no "space": the world frame of its space directions is not named (add e.g. "space: left-posterior-superior").');
    }
  }
  const directionsText = fields.get('spacedirections');
  const originText = fields.get('spaceorigin');
  if (!space && (directionsText !== undefined || originText !== undefined)) {
    throw headerError('The NRRD header has "space directions" or "space origin" but no "space": their world frame is not named (add e.g. "space: left-posterior-superior").');
  }
  const spaceDirections = directionsText === undefined ? undefined : parseDirections(directionsText, dimension);
  const spaceOrigin = originText === undefined ? undefined : parseVector(originText, 'space origin');
  const spacingsText = fields.get('spacings');
  const spacings = spacingsText === undefined ? undefined : perAxis(spacingsText, 'spacings', dimension).map((s) => parseNumber(s, 'spacings'));
  const kindsText = fields.get('kinds');
  const kinds = kindsText === undefined ? undefined : perAxis(kindsText, 'kinds', dimension).map((k) => k.toLowerCase());

  const lineSkip = parseInteger(fields.get('lineskip') ?? '0', 'line skip');
  if (lineSkip < 0) throw headerError(`NRRD line skip ${lineSkip} is negative.`);
  const byteSkip = parseInteger(fields.get('byteskip') ?? '0', 'byte skip');
  if (byteSkip === -1) {
    throw new VoxgateError(
      'VXG_ERR_VOLUME_FORMAT',
      'NRRD "byte skip: -1" (data at the end of the file) is not supported for uploaded images; re-save the image as a .nrrd with byte skip 0.',
    );
  }
  if (byteSkip < 0) throw headerError(`NRRD byte skip ${byteSkip} is negative.`);
  if (byteSkip > 0 && (encoding === 'ascii' || encoding === 'hex')) {
    throw new VoxgateError('VXG_ERR_VOLUME_FORMAT', `NRRD byte skip with ${encoding} encoding is not supported; re-save the image with raw or gzip encoding.`);
  }

  return {
    version: Number(magic[1]),
    dataType,
    dimension,
    sizes,
    encoding,
    littleEndian: endian === undefined ? undefined : endian === 'little',
    ...(space ? { space } : {}),
    ...(spaceDirections ? { spaceDirections } : {}),
    ...(spaceOrigin ? { spaceOrigin } : {}),
    ...(spacings ? { spacings } : {}),
    ...(kinds ? { kinds } : {}),
    lineSkip,
    byteSkip,
  };
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function parseType(value: string): DataType {
  const name = value.toLowerCase().replace(/\s+/g, ' ');
  const type = TYPE_NAMES[name];
  if (type === 'int64' || type === 'uint64') {
    throw new VoxgateError('VXG_ERR_VOLUME_DATATYPE', `NRRD type "${value}" (64-bit integers) is not supported; convert the image to int32, float32 or float64.`);
  }
  if (type === 'block') throw new VoxgateError('VXG_ERR_VOLUME_DATATYPE', 'NRRD type "block" (opaque records) is not supported; send scalar voxels.');
  if (!type) throw new VoxgateError('VXG_ERR_VOLUME_DATATYPE', `NRRD type "${clip(value)}" is not a type Voxgate reads (e.g. unsigned char, short, float).`);
  return type;
}

function parseEncoding(value: string): NrrdEncoding {
  const encoding = ENCODING_NAMES[value.toLowerCase()];
  if (encoding === 'bzip2') {
    throw new VoxgateError('VXG_ERR_VOLUME_FORMAT', 'NRRD bzip2 encoding is not supported; re-save the image with gzip or raw encoding.');
  }
  if (!encoding) throw headerError(`NRRD encoding "${clip(value)}" is not raw, gzip, ascii or hex.`);
  return encoding;
}

function parseSpace(value: string | undefined): NrrdSpace | undefined {
  if (value === undefined) return undefined;
  const space = SPACE_NAMES[value.toLowerCase()];
  if (!space) {
    throw headerError(
      `NRRD space "${clip(value)}" is not one Voxgate reads (${NrrdSpaces.join(', ')}, or LPS, RAS, LAS); re-save the image in a patient space.`,
    );
  }
  return space;
}

function parseInteger(value: string, field: string): number {
  if (!/^[+-]?\d{1,15}$/.test(value.trim())) throw headerError(`NRRD ${field} "${clip(value)}" is not an integer (below 10^15).`);
  return Number(value);
}

/** A decimal number as teem reads it, `nan` and `inf` included; nothing else (no hex, no empty). */
export function parseNumber(token: string, field: string): number {
  const t = token.trim();
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) return Number(t);
  const lower = t.toLowerCase();
  if (lower === 'nan' || lower === '+nan' || lower === '-nan') return NaN;
  if (/^[+-]?inf(inity)?$/.test(lower)) return lower.startsWith('-') ? -Infinity : Infinity;
  throw headerError(`NRRD ${field}: "${clip(token)}" is not a number.`);
}

function perAxis(value: string, field: string, dimension: number): string[] {
  const items = value.split(/\s+/).filter((s) => s.length > 0);
  if (items.length !== dimension) throw headerError(`NRRD ${field} has ${items.length} entries; dimension ${dimension} needs ${dimension}.`);
  return items;
}

/** `(x,y,z)`, spaces allowed around the numbers. */
function parseVector(value: string, field: string): Vec3 {
  const m = /^\(([^()]*)\)$/.exec(value.trim());
  if (!m) throw headerError(`NRRD ${field} "${clip(value)}" is not a vector "(x,y,z)".`);
  const parts = m[1].split(',');
  if (parts.length !== 3) throw headerError(`NRRD ${field} "${clip(value)}" has ${parts.length} components; space dimension 3 needs 3.`);
  const [x, y, z] = parts.map((p) => parseNumber(p, field));
  return [x, y, z];
}

function parseDirections(value: string, dimension: number): (Vec3 | null)[] {
  const items = value.match(/\([^()]*\)|[^\s()]+/g) ?? [];
  if (items.length !== dimension) throw headerError(`NRRD space directions has ${items.length} entries; dimension ${dimension} needs ${dimension}.`);
  return items.map((item) => (item.toLowerCase() === 'none' ? null : parseVector(item, 'space directions')));
}

/** What a NRRD header says about the image as a 3D volume. */
export interface NrrdVolumeGeometry {
  readonly dims: Dims;
  /** Voxel (i, j, k) → RAS+ millimetres. */
  readonly affine: Affine;
  /** The space the file's geometry was given in (LPS where it names none, as ITK reads it). */
  readonly space: NrrdSpace;
}

/**
 * The three spatial axes, dims and RAS affine of a parsed header. Non-spatial axes (direction
 * `none`, or a kind such as vector, list or time) are dropped when they have one sample and refused
 * otherwise. Without `space directions` the axes are aligned with the world with `spacings` (1 where
 * absent) and the origin at 0; without `space` the world is taken as LPS, as ITK (and so 3D Slicer)
 * reads such a file.
 */
export function nrrdGeometry(h: NrrdHeader): NrrdVolumeGeometry {
  const axes = spatialAxes(h);
  const dims: Dims = [h.sizes[axes[0]], h.sizes[axes[1]], h.sizes[axes[2]]];
  const space = h.space ?? 'left-posterior-superior';
  let columns: Vec3[];
  let which: string;
  if (h.spaceDirections) {
    which = 'space directions';
    columns = axes.map((a) => h.spaceDirections?.[a] as Vec3);
  } else {
    which = h.spacings ? 'spacings' : 'default spacing';
    columns = axes.map((a, c) => {
      const s = h.spacings?.[a] ?? 1;
      return [c === 0 ? s : 0, c === 1 ? s : 0, c === 2 ? s : 0];
    });
  }
  const origin = h.spaceOrigin ?? [0, 0, 0];
  const inSpace = affineFrom([0, 1, 2].map((r) => columns.map((col) => col[r])), origin);
  const spacing = columnNorms(inSpace);
  if (spacing.some((s) => !Number.isFinite(s) || s === 0)) {
    throw new VoxgateError(
      'VXG_ERR_VOLUME_SPACING',
      `The NRRD ${which} give voxel spacing ${spacing.map((s) => +s.toPrecision(6)).join(' × ')} mm; spacing must be finite and non-zero.`,
    );
  }
  const affine = toRas(inSpace, space);
  assertValidAffine(affine, `NRRD ${which}`);
  return { dims, affine, space };
}

/** Converts an affine in `space` to RAS+ (and back: each conversion is its own inverse). */
export function toRas(a: Affine, space: NrrdSpace): Affine {
  switch (space) {
    case 'right-anterior-superior':
      return [...a];
    case 'left-posterior-superior':
      return flipXY(a);
    case 'left-anterior-superior':
      return [-a[0], -a[1], -a[2], -a[3], ...a.slice(4)];
  }
}

function spatialAxes(h: NrrdHeader): [number, number, number] {
  const all = h.sizes.map((_, a) => a);
  let candidates: number[];
  if (h.spaceDirections) candidates = all.filter((a) => h.spaceDirections?.[a] !== null);
  else if (h.kinds) candidates = all.filter((a) => SPATIAL_KINDS.has(h.kinds?.[a] ?? 'none'));
  else candidates = all;
  // Without directions, an axis of one sample among too many candidates is a placeholder.
  for (let n = candidates.length - 1; n >= 0 && candidates.length > 3; n--) {
    if (!h.spaceDirections && h.sizes[candidates[n]] === 1) candidates.splice(n, 1);
  }
  const shape = h.sizes.join('×');
  const extra = all.find((a) => !candidates.includes(a) && h.sizes[a] > 1);
  if (extra !== undefined) {
    const kind = h.kinds?.[extra];
    throw new VoxgateError(
      'VXG_ERR_VOLUME_NOT_3D',
      `The NRRD image has ${h.dimension} axes (${shape}); axis ${extra}${kind ? ` (kind ${kind})` : ''} holds ${h.sizes[extra]} values per voxel that are not a spatial dimension. Voxgate segments one scalar 3D volume: extract a single component or time point and send that.`,
    );
  }
  if (candidates.length !== 3) {
    throw new VoxgateError(
      'VXG_ERR_VOLUME_NOT_3D',
      `The NRRD image has ${candidates.length} spatial axes (sizes ${shape}); Voxgate segments 3D volumes with exactly three.`,
    );
  }
  return [candidates[0], candidates[1], candidates[2]];
}
