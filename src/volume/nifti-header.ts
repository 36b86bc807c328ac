/**
 * NIfTI-1 (348-byte) and NIfTI-2 (540-byte) headers: parse from bytes in either byte order, and
 * serialise. Field offsets follow nifti1.h and nifti2.h.
 * @module
 */
import { VoxgateError } from '../errors.js';
import type { DataType } from './datatype.js';

export const NIFTI1_HEADER_SIZE = 348;
export const NIFTI2_HEADER_SIZE = 540;

/** NIfTI datatype codes (nifti1.h `DT_*`) Voxgate reads and writes. */
export const NiftiDataTypeCodes = {
  uint8: 2,
  int16: 4,
  int32: 8,
  float32: 16,
  float64: 64,
  int8: 256,
  uint16: 512,
  uint32: 768,
} as const satisfies Record<DataType, number>;

const dataTypeByCode = new Map<number, DataType>(
  Object.entries(NiftiDataTypeCodes).map(([name, code]) => [code, name as DataType]),
);

const UNSUPPORTED_CODES: Record<number, string> = {
  1: 'binary (1 bit)', 32: 'complex64', 128: 'RGB24', 511: 'float128', 1024: 'int64', 1280: 'uint64',
  1536: 'float128', 1792: 'complex128', 2048: 'complex256', 2304: 'RGBA32',
};

export interface NiftiHeader {
  readonly version: 1 | 2;
  readonly littleEndian: boolean;
  /** dim[0..7] */
  readonly dim: readonly number[];
  readonly datatypeCode: number;
  readonly dataType: DataType;
  readonly bitpix: number;
  /** pixdim[0..7] */
  readonly pixdim: readonly number[];
  readonly voxOffset: number;
  readonly sclSlope: number;
  readonly sclInter: number;
  readonly xyztUnits: number;
  readonly descrip: string;
  readonly qformCode: number;
  readonly sformCode: number;
  /** quatern_b, quatern_c, quatern_d, qoffset_x, qoffset_y, qoffset_z */
  readonly quatern: readonly [number, number, number, number, number, number];
  /** srow_x, srow_y, srow_z */
  readonly srow: readonly number[];
  readonly intentCode: number;
}

/**
 * The header size a file starts with, and its byte order, from the `sizeof_hdr` field; undefined
 * when the bytes are not NIfTI.
 */
export function sniffNifti(bytes: Uint8Array): { version: 1 | 2; littleEndian: boolean } | undefined {
  if (bytes.length < 4) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const littleEndian of [true, false]) {
    const size = view.getInt32(0, littleEndian);
    if (size === NIFTI1_HEADER_SIZE) return { version: 1, littleEndian };
    if (size === NIFTI2_HEADER_SIZE) return { version: 2, littleEndian };
  }
  return undefined;
}

function text(bytes: Uint8Array, offset: number, length: number): string {
  const slice = bytes.subarray(offset, offset + length);
  const end = slice.indexOf(0);
  return Buffer.from(slice.subarray(0, end < 0 ? slice.length : end)).toString('latin1');
}

/** Parses a complete header (348 or 540 bytes). Checks the magic; geometry is checked by the reader. */
export function parseNiftiHeader(bytes: Uint8Array): NiftiHeader {
  const sniff = sniffNifti(bytes);
  if (!sniff) {
    throw new VoxgateError('VXG_ERR_VOLUME_FORMAT', 'Not a NIfTI file: sizeof_hdr is neither 348 nor 540.');
  }
  const { version, littleEndian: le } = sniff;
  const size = version === 1 ? NIFTI1_HEADER_SIZE : NIFTI2_HEADER_SIZE;
  if (bytes.length < size) {
    throw new VoxgateError('VXG_ERR_VOLUME_TRUNCATED', `The file ends inside its ${size}-byte NIfTI header (${bytes.length} bytes).`);
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, size);
  if (version === 1) {
    const magic = text(bytes, 344, 4);
    if (magic !== 'n+1' && magic !== 'ni1') {
      throw new VoxgateError('VXG_ERR_VOLUME_FORMAT', `Not a NIfTI-1 file: magic is ${JSON.stringify(magic)}, expected "n+1" or "ni1".`);
    }
    if (magic === 'ni1') {
      throw new VoxgateError('VXG_ERR_VOLUME_FORMAT', 'This is a NIfTI header pair (.hdr/.img); send a single-file .nii or .nii.gz.');
    }
    const dim = Array.from({ length: 8 }, (_, n) => v.getInt16(40 + 2 * n, le));
    const pixdim = Array.from({ length: 8 }, (_, n) => v.getFloat32(76 + 4 * n, le));
    const datatypeCode = v.getInt16(70, le);
    return {
      version, littleEndian: le, dim, pixdim, datatypeCode,
      dataType: dataTypeFromCode(datatypeCode),
      bitpix: v.getInt16(72, le),
      voxOffset: v.getFloat32(108, le),
      sclSlope: v.getFloat32(112, le),
      sclInter: v.getFloat32(116, le),
      xyztUnits: v.getUint8(123),
      descrip: text(bytes, 148, 80),
      qformCode: v.getInt16(252, le),
      sformCode: v.getInt16(254, le),
      quatern: [0, 1, 2, 3, 4, 5].map((n) => v.getFloat32(256 + 4 * n, le)) as unknown as NiftiHeader['quatern'],
      srow: Array.from({ length: 12 }, (_, n) => v.getFloat32(280 + 4 * n, le)),
      intentCode: v.getInt16(68, le),
    };
  }
  const magic = text(bytes, 4, 8);
  if (magic !== 'n+2' || bytes[8] !== 0x0d || bytes[9] !== 0x0a || bytes[10] !== 0x1a || bytes[11] !== 0x0a) {
    if (magic === 'ni2') {
      throw new VoxgateError('VXG_ERR_VOLUME_FORMAT', 'This is a NIfTI-2 header pair (.hdr/.img); send a single-file .nii or .nii.gz.');
    }
    throw new VoxgateError('VXG_ERR_VOLUME_FORMAT', 'Not a NIfTI-2 file: its magic is not "n+2\\0\\r\\n\\032\\n".');
  }
  const int64 = (o: number): number => {
    const big = v.getBigInt64(o, le);
    if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new VoxgateError('VXG_ERR_VOLUME_HEADER', `A NIfTI-2 size field at byte ${o} is out of range (${big}).`);
    }
    return Number(big);
  };
  const datatypeCode = v.getInt16(12, le);
  return {
    version, littleEndian: le, datatypeCode,
    dataType: dataTypeFromCode(datatypeCode),
    bitpix: v.getInt16(14, le),
    dim: Array.from({ length: 8 }, (_, n) => int64(16 + 8 * n)),
    pixdim: Array.from({ length: 8 }, (_, n) => v.getFloat64(104 + 8 * n, le)),
    voxOffset: int64(168),
    sclSlope: v.getFloat64(176, le),
    sclInter: v.getFloat64(184, le),
    descrip: text(bytes, 240, 80),
    qformCode: v.getInt32(344, le),
    sformCode: v.getInt32(348, le),
    quatern: [0, 1, 2, 3, 4, 5].map((n) => v.getFloat64(352 + 8 * n, le)) as unknown as NiftiHeader['quatern'],
    srow: Array.from({ length: 12 }, (_, n) => v.getFloat64(400 + 8 * n, le)),
    xyztUnits: v.getInt32(500, le),
    intentCode: v.getInt32(504, le),
  };
}

function dataTypeFromCode(code: number): DataType {
  const type = dataTypeByCode.get(code);
  if (type) return type;
  const known = UNSUPPORTED_CODES[code];
  throw new VoxgateError(
    'VXG_ERR_VOLUME_DATATYPE',
    known
      ? `NIfTI datatype ${code} (${known}) is not supported; convert the image to int16, float32 or another scalar type.`
      : `NIfTI datatype code ${code} is not a valid NIfTI datatype.`,
  );
}

export interface NiftiHeaderFields {
  version: 1 | 2;
  dims: readonly [number, number, number];
  dataType: DataType;
  pixdim: readonly number[];
  qformCode: number;
  sformCode: number;
  quatern: readonly number[];
  srow: readonly number[];
  xyztUnits: number;
  descrip?: string;
  sclSlope?: number;
  sclInter?: number;
  /** NIFTI_INTENT_* code; 1002 (NIFTI_INTENT_LABEL) tells viewers the values are labels. */
  intentCode?: number;
}

/**
 * Serialises a little-endian single-file header followed by the 4-byte extension flag (all zero),
 * i.e. the first vox_offset bytes of a .nii file (352 for NIfTI-1, 544 for NIfTI-2).
 */
export function serializeNiftiHeader(f: NiftiHeaderFields): Buffer {
  const le = true;
  const bytesPer = { uint8: 1, int8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, float32: 4, float64: 8 }[f.dataType];
  const descrip = Buffer.from((f.descrip ?? '').slice(0, 79), 'latin1');
  if (f.version === 1) {
    const out = Buffer.alloc(NIFTI1_HEADER_SIZE + 4);
    const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
    v.setInt32(0, NIFTI1_HEADER_SIZE, le);
    out[39] = 0; // dim_info
    v.setInt16(68, f.intentCode ?? 0, le);
    const dim = [3, f.dims[0], f.dims[1], f.dims[2], 1, 1, 1, 1];
    dim.forEach((d, n) => v.setInt16(40 + 2 * n, d, le));
    v.setInt16(70, NiftiDataTypeCodes[f.dataType], le);
    v.setInt16(72, bytesPer * 8, le);
    for (let n = 0; n < 8; n++) v.setFloat32(76 + 4 * n, f.pixdim[n] ?? (n === 0 ? 1 : 0), le);
    v.setFloat32(108, NIFTI1_HEADER_SIZE + 4, le);
    v.setFloat32(112, f.sclSlope ?? 0, le);
    v.setFloat32(116, f.sclInter ?? 0, le);
    v.setUint8(123, f.xyztUnits);
    descrip.copy(out, 148);
    v.setInt16(252, f.qformCode, le);
    v.setInt16(254, f.sformCode, le);
    for (let n = 0; n < 6; n++) v.setFloat32(256 + 4 * n, f.quatern[n], le);
    for (let n = 0; n < 12; n++) v.setFloat32(280 + 4 * n, f.srow[n], le);
    out.write('n+1\0', 344, 'latin1');
    return out;
  }
  const out = Buffer.alloc(NIFTI2_HEADER_SIZE + 4);
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  v.setInt32(0, NIFTI2_HEADER_SIZE, le);
  out.set([0x6e, 0x2b, 0x32, 0x00, 0x0d, 0x0a, 0x1a, 0x0a], 4);
  v.setInt16(12, NiftiDataTypeCodes[f.dataType], le);
  v.setInt16(14, bytesPer * 8, le);
  const dim = [3, f.dims[0], f.dims[1], f.dims[2], 1, 1, 1, 1];
  dim.forEach((d, n) => v.setBigInt64(16 + 8 * n, BigInt(d), le));
  for (let n = 0; n < 8; n++) v.setFloat64(104 + 8 * n, f.pixdim[n] ?? (n === 0 ? 1 : 0), le);
  v.setBigInt64(168, BigInt(NIFTI2_HEADER_SIZE + 4), le);
  v.setFloat64(176, f.sclSlope ?? 0, le);
  v.setFloat64(184, f.sclInter ?? 0, le);
  descrip.copy(out, 240);
  v.setInt32(344, f.qformCode, le);
  v.setInt32(348, f.sformCode, le);
  for (let n = 0; n < 6; n++) v.setFloat64(352 + 8 * n, f.quatern[n], le);
  for (let n = 0; n < 12; n++) v.setFloat64(400 + 8 * n, f.srow[n], le);
  v.setInt32(500, f.xyztUnits, le);
  v.setInt32(504, f.intentCode ?? 0, le);
  return out;
}
