/**
 * NIfTI-1 / NIfTI-2 single-file images (.nii, .nii.gz): read with nibabel's geometry rules, write
 * keeping the source's qform and sform exactly.
 * @module
 */
import { VoxgateError } from '../errors.js';
import type { Affine } from './affine.js';
import { assertValidAffine, columnNorms, maxAbsDifference } from './affine.js';
import type { ByteReaderOptions, ByteSource } from './byte-reader.js';
import { ByteReader } from './byte-reader.js';
import type { DataType, VoxelArray } from './datatype.js';
import { HOST_LITTLE_ENDIAN, VoxelArrayOf, bytesPerVoxel, swapBytes } from './datatype.js';
import { convertVoxels } from './convert.js';
import { gzipParts, DEFAULT_GZIP_LEVEL } from './gzip.js';
import type { NiftiHeader } from './nifti-header.js';
import { NIFTI1_HEADER_SIZE, NIFTI2_HEADER_SIZE, parseNiftiHeader, serializeNiftiHeader, sniffNifti } from './nifti-header.js';
import { affineToQform, qformToAffine } from './quaternion.js';
import type { Dims, NiftiGeometry, Volume } from './volume.js';
import { createVolume, voxelCount } from './volume.js';

/** Extensions between header and data larger than this are refused (a lying vox_offset). */
const MAX_EXTENSION_BYTES = 64 * 1024 * 1024;

/** How far past the declared data a compressed stream is read, to tell corruption from a lying header. */
const EXCESS_PROBE_BYTES = 1 << 20;

/**
 * How a NIfTI file can begin: sizeof_hdr 348 or 540 in either byte order, or the gzip magic. A file
 * shorter than 4 bytes that starts like one of these is truncated, not of another format.
 */
const KNOWN_STARTS: readonly (readonly number[])[] = [
  [0x5c, 0x01, 0x00, 0x00], [0x00, 0x00, 0x01, 0x5c], [0x1c, 0x02, 0x00, 0x00], [0x00, 0x00, 0x02, 0x1c], [0x1f, 0x8b],
];

/** Reads a NIfTI image from bytes or a stream (gzip detected from the bytes). */
export async function readNifti(source: ByteSource, options: ByteReaderOptions = {}): Promise<Volume> {
  const reader = await ByteReader.open(source, options);
  try {
    return await decodeNifti(reader);
  } finally {
    reader.close();
  }
}

/** Decodes a NIfTI image from an open reader positioned at the first header byte. */
export async function decodeNifti(reader: ByteReader): Promise<Volume> {
  const start = await reader.read(4);
  const sniff = sniffNifti(start);
  if (!sniff) {
    if (start.length > 0 && start.length < 4 && KNOWN_STARTS.some((known) => start.every((b, n) => b === known[n]))) {
      throw new VoxgateError('VXG_ERR_VOLUME_TRUNCATED', `The file ends after ${start.length} bytes, inside its header.`);
    }
    throw new VoxgateError('VXG_ERR_VOLUME_FORMAT', 'Not a NIfTI file: sizeof_hdr is neither 348 nor 540.');
  }
  const size = sniff.version === 1 ? NIFTI1_HEADER_SIZE : NIFTI2_HEADER_SIZE;
  const rest = await reader.read(size - 4);
  const bytes = new Uint8Array(size);
  bytes.set(start);
  bytes.set(rest, 4);
  if (rest.length < size - 4) {
    throw new VoxgateError('VXG_ERR_VOLUME_TRUNCATED', `The file ends inside its ${size}-byte NIfTI header.`);
  }
  const header = parseNiftiHeader(bytes);
  const dims = spatialDims(header);
  const bpv = bytesPerVoxel(header.dataType);
  const dataBytes = voxelCount(dims) * bpv;

  if (!Number.isInteger(header.voxOffset) || header.voxOffset < size || header.voxOffset > size + MAX_EXTENSION_BYTES) {
    throw new VoxgateError('VXG_ERR_VOLUME_HEADER', `vox_offset ${header.voxOffset} is not a valid data offset for a single-file NIfTI (at least ${size}).`);
  }
  if (header.voxOffset + dataBytes > reader.maxDecodedBytes) {
    throw new VoxgateError(
      'VXG_ERR_VOLUME_TOO_LARGE',
      `The image is ${dims.join('×')} ${header.dataType} (${dataBytes} bytes), over the limit of ${reader.maxDecodedBytes} decoded bytes.`,
    );
  }
  const skipped = await reader.skip(header.voxOffset - size);
  if (skipped < header.voxOffset - size) {
    throw new VoxgateError('VXG_ERR_VOLUME_TRUNCATED', 'The file ends before its voxel data starts (at vox_offset).');
  }
  const buffer = new ArrayBuffer(dataBytes);
  const raw = new Uint8Array(buffer);
  const got = await reader.readInto(raw);
  if (got < dataBytes) {
    throw new VoxgateError(
      'VXG_ERR_VOLUME_TRUNCATED',
      `The file holds ${got} of the ${dataBytes} bytes of voxel data its header declares (${dims.join('×')} ${header.dataType}): it is truncated or its header is wrong.`,
    );
  }
  if (!(await reader.atEnd())) {
    // A bit flipped in a deflate stream can make it decode to more bytes than it was made from, and
    // the CRC error only comes at the end of the stream. Read up to 1 MiB further so that a damaged
    // .nii.gz is reported as corrupt rather than as a lying header; a gzip bomb still stops here.
    if (reader.compressed) await reader.skip(EXCESS_PROBE_BYTES);
    throw new VoxgateError(
      'VXG_ERR_VOLUME_HEADER',
      `The file holds more data than its header declares (${dims.join('×')} ${header.dataType}); its dimensions or datatype are wrong.`,
    );
  }
  if (header.littleEndian !== HOST_LITTLE_ENDIAN) swapBytes(raw, bpv);
  const stored = new VoxelArrayOf[header.dataType](buffer);
  const data = applyScaling(stored, header);
  const affine = niftiAffine(header, dims);
  return createVolume(dims, data, affine, {
    format: 'nifti',
    nifti: geometryOf(header),
    description: header.descrip,
  });
}

function spatialDims(h: NiftiHeader): Dims {
  const n = h.dim[0];
  if (!Number.isInteger(n) || n < 1 || n > 7) {
    throw new VoxgateError('VXG_ERR_VOLUME_HEADER', `dim[0] is ${n}; a NIfTI image has 1 to 7 dimensions.`);
  }
  const dims = [1, 1, 1];
  for (let d = 1; d <= n; d++) {
    const size = h.dim[d];
    if (!Number.isInteger(size) || size < 1) {
      throw new VoxgateError('VXG_ERR_VOLUME_HEADER', `dim[${d}] is ${size}; every dimension must be at least 1.`);
    }
    if (d <= 3) dims[d - 1] = size;
  }
  const extra = h.dim.slice(4, n + 1);
  if (extra.some((s) => s > 1)) {
    throw new VoxgateError(
      'VXG_ERR_VOLUME_NOT_3D',
      `The image has ${n} dimensions (${h.dim.slice(1, n + 1).join('×')}); Voxgate segments one 3D volume: extract a single volume (e.g. the first time point) and send that.`,
    );
  }
  return dims as unknown as Dims;
}

/** scl_slope / scl_inter as nibabel applies them (slope 0 or non-finite = no scaling). */
function applyScaling(stored: VoxelArray, h: NiftiHeader): VoxelArray {
  const slope = h.sclSlope;
  if (slope === 0 || !Number.isFinite(slope)) return stored;
  const inter = Number.isFinite(h.sclInter) ? h.sclInter : 0;
  if (slope === 1 && inter === 0) return stored;
  if (stored instanceof Float32Array || stored instanceof Float64Array) {
    for (let n = 0; n < stored.length; n++) stored[n] = stored[n] * slope + inter;
    return stored;
  }
  // Integer data: keep an integer type when the scaled values are integers that fit, so HU stored
  // as uint16 + inter -1024 stays compact.
  if (Number.isInteger(slope) && Number.isInteger(inter)) {
    let min = Infinity;
    let max = -Infinity;
    for (let n = 0; n < stored.length; n++) {
      const v = stored[n];
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const lo = Math.min(min * slope + inter, max * slope + inter);
    const hi = Math.max(min * slope + inter, max * slope + inter);
    const target: DataType = lo >= -32768 && hi <= 32767 ? 'int16' : lo >= -2147483648 && hi <= 2147483647 ? 'int32' : 'float64';
    return convertVoxels(stored, target, (v) => v * slope + inter);
  }
  return convertVoxels(stored, 'float32', (v) => v * slope + inter);
}

/** The affine nibabel's `get_best_affine` gives: sform if its code > 0, else qform, else a base affine. */
export function niftiAffine(h: Pick<NiftiHeader, 'sformCode' | 'qformCode' | 'srow' | 'quatern' | 'pixdim'>, dims: Dims): Affine {
  let affine: Affine;
  let which: string;
  if (h.sformCode > 0) {
    which = 'sform';
    affine = [...h.srow, 0, 0, 0, 1];
  } else if (h.qformCode > 0) {
    which = 'qform';
    affine = qformToAffine({
      b: h.quatern[0], c: h.quatern[1], d: h.quatern[2],
      offset: [h.quatern[3], h.quatern[4], h.quatern[5]],
      pixdim: [h.pixdim[1], h.pixdim[2], h.pixdim[3]],
      qfac: h.pixdim[0],
    });
  } else {
    // nibabel's base affine: voxel sizes on the diagonal, x flipped, centred on the middle voxel.
    which = 'pixdim scaling';
    const z = [-Math.abs(h.pixdim[1]), Math.abs(h.pixdim[2]), Math.abs(h.pixdim[3])];
    affine = [
      z[0], 0, 0, -((dims[0] - 1) / 2) * z[0],
      0, z[1], 0, -((dims[1] - 1) / 2) * z[1],
      0, 0, z[2], -((dims[2] - 1) / 2) * z[2],
      0, 0, 0, 1,
    ];
  }
  const spacing = columnNorms(affine);
  if (spacing.some((s) => !Number.isFinite(s) || s === 0)) {
    throw new VoxgateError(
      'VXG_ERR_VOLUME_SPACING',
      `The ${which} gives voxel spacing ${spacing.map((s) => +s.toPrecision(6)).join(' × ')} mm; spacing must be finite and non-zero.`,
    );
  }
  assertValidAffine(affine, which);
  return affine;
}

function geometryOf(h: NiftiHeader): NiftiGeometry {
  return {
    version: h.version,
    qformCode: h.qformCode,
    sformCode: h.sformCode,
    quatern: h.quatern,
    pixdim: h.pixdim,
    srow: h.srow,
    xyztUnits: h.xyztUnits,
  };
}

export interface NiftiWriteOptions {
  /** Voxel type to store; defaults to the volume's. */
  dataType?: DataType;
  /** gzip (.nii.gz) when true (default). */
  compress?: boolean;
  level?: number;
  /** Mark the voxel values as labels (intent code 1002, NIFTI_INTENT_LABEL), as label maps should be. */
  labels?: boolean;
}

/** nifti1.h NIFTI_INTENT_LABEL: "the value at each voxel is an index into some set of labels". */
export const NIFTI_INTENT_LABEL = 1002;

/**
 * Encodes a volume as a single-file NIfTI. When the volume came from a NIfTI file (and its affine is
 * still that file's), the header's qform and sform are copied verbatim; otherwise both are set from
 * the affine with code 1 (scanner).
 */
export async function encodeNifti(volume: Volume, options: NiftiWriteOptions = {}): Promise<Buffer> {
  const dataType = options.dataType ?? volume.dataType;
  const geometry = reusableGeometry(volume) ?? geometryFromAffine(volume.affine);
  const header = serializeNiftiHeader({
    // NIfTI-1 stores dims as int16: a longer axis needs NIfTI-2.
    version: volume.dims.some((d) => d > 32767) ? 2 : geometry.version,
    dims: volume.dims,
    dataType,
    pixdim: geometry.pixdim,
    qformCode: geometry.qformCode,
    sformCode: geometry.sformCode,
    quatern: geometry.quatern,
    srow: geometry.srow,
    xyztUnits: geometry.xyztUnits,
    descrip: 'Voxgate',
    intentCode: options.labels ? NIFTI_INTENT_LABEL : 0,
  });
  const data = dataType === volume.dataType ? volume.data : convertVoxels(volume.data, dataType);
  let bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (!HOST_LITTLE_ENDIAN) {
    bytes = Uint8Array.from(bytes);
    swapBytes(bytes, bytesPerVoxel(dataType));
  }
  if (options.compress === false) return Buffer.concat([header, bytes]);
  return gzipParts([header, bytes], options.level ?? DEFAULT_GZIP_LEVEL);
}

function reusableGeometry(volume: Volume): NiftiGeometry | undefined {
  const g = volume.source.nifti;
  if (!g) return undefined;
  try {
    return maxAbsDifference(niftiAffine(g, volume.dims), volume.affine) === 0 ? g : undefined;
  } catch {
    return undefined;
  }
}

/** qform (nearest rotation) and sform (exact matrix) for an affine, both code 1 (scanner). */
export function geometryFromAffine(affine: Affine): NiftiGeometry {
  const q = affineToQform(affine);
  return {
    version: 1,
    qformCode: 1,
    sformCode: 1,
    quatern: [q.b, q.c, q.d, q.offset[0], q.offset[1], q.offset[2]],
    pixdim: [q.qfac, q.pixdim[0], q.pixdim[1], q.pixdim[2], 0, 0, 0, 0],
    srow: affine.slice(0, 12),
    // NIFTI_UNITS_MM (2) | NIFTI_UNITS_SEC (8)
    xyztUnits: 10,
  };
}
