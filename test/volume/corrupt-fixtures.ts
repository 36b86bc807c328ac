/**
 * Fixtures for the corrupt-input suite: a seeded PRNG, NIfTI-1 and NIfTI-2 header layouts (offsets
 * from nifti1.h and nifti2.h) to poke single fields in either byte order, a NIfTI writer of its own
 * (so the generated big-endian and NIfTI-2 files do not come from the codec under test), and lazy
 * byte streams.
 * @module
 */

/** mulberry32: small, fast, and the same sequence on every run for a given seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [lo, hi). */
export function randomInt(random: () => number, lo: number, hi: number): number {
  return lo + Math.floor(random() * (hi - lo));
}

export type FieldKind = 'i16' | 'i32' | 'i64' | 'f32' | 'f64';

export interface Field {
  readonly offset: number;
  readonly kind: FieldKind;
}

/** Where the fields that decide geometry and size sit in each header version. */
export interface HeaderLayout {
  readonly version: 1 | 2;
  readonly size: 348 | 540;
  readonly magic: number;
  /** dim[n] is at dim.offset + n * stride. */
  readonly dim: Field;
  readonly datatype: Field;
  readonly bitpix: Field;
  readonly pixdim: Field;
  readonly voxOffset: Field;
  readonly sclSlope: Field;
  readonly sclInter: Field;
  readonly qformCode: Field;
  readonly sformCode: Field;
  /** quatern_b, c, d, qoffset_x, y, z. */
  readonly quatern: Field;
  /** srow_x, srow_y, srow_z (12 numbers). */
  readonly srow: Field;
}

export const NIFTI1_LAYOUT: HeaderLayout = {
  version: 1, size: 348, magic: 344,
  dim: { offset: 40, kind: 'i16' },
  datatype: { offset: 70, kind: 'i16' },
  bitpix: { offset: 72, kind: 'i16' },
  pixdim: { offset: 76, kind: 'f32' },
  voxOffset: { offset: 108, kind: 'f32' },
  sclSlope: { offset: 112, kind: 'f32' },
  sclInter: { offset: 116, kind: 'f32' },
  qformCode: { offset: 252, kind: 'i16' },
  sformCode: { offset: 254, kind: 'i16' },
  quatern: { offset: 256, kind: 'f32' },
  srow: { offset: 280, kind: 'f32' },
};

export const NIFTI2_LAYOUT: HeaderLayout = {
  version: 2, size: 540, magic: 4,
  dim: { offset: 16, kind: 'i64' },
  datatype: { offset: 12, kind: 'i16' },
  bitpix: { offset: 14, kind: 'i16' },
  pixdim: { offset: 104, kind: 'f64' },
  voxOffset: { offset: 168, kind: 'i64' },
  sclSlope: { offset: 176, kind: 'f64' },
  sclInter: { offset: 184, kind: 'f64' },
  qformCode: { offset: 344, kind: 'i32' },
  sformCode: { offset: 348, kind: 'i32' },
  quatern: { offset: 352, kind: 'f64' },
  srow: { offset: 400, kind: 'f64' },
};

const WIDTH: Record<FieldKind, number> = { i16: 2, i32: 4, i64: 8, f32: 4, f64: 8 };

/** Element `index` of an array field. */
export function at(field: Field, index: number): Field {
  return { offset: field.offset + index * WIDTH[field.kind], kind: field.kind };
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function getField(bytes: Uint8Array, field: Field, le: boolean): number {
  const v = view(bytes);
  switch (field.kind) {
    case 'i16': return v.getInt16(field.offset, le);
    case 'i32': return v.getInt32(field.offset, le);
    case 'i64': return Number(v.getBigInt64(field.offset, le));
    case 'f32': return v.getFloat32(field.offset, le);
    case 'f64': return v.getFloat64(field.offset, le);
  }
}

/** Writes `value` into `field`; integer fields take the value modulo their width, as a C cast would. */
export function setField(bytes: Uint8Array, field: Field, value: number | bigint, le: boolean): void {
  const v = view(bytes);
  switch (field.kind) {
    case 'i16': v.setInt16(field.offset, Number(value), le); break;
    case 'i32': v.setInt32(field.offset, Number(value), le); break;
    case 'i64': v.setBigInt64(field.offset, BigInt.asIntN(64, BigInt(value)), le); break;
    case 'f32': v.setFloat32(field.offset, Number(value), le); break;
    case 'f64': v.setFloat64(field.offset, Number(value), le); break;
  }
}

/** Bytes per voxel of the NIfTI datatype codes the codec supports. */
export const SUPPORTED_DATATYPES: ReadonlyMap<number, number> = new Map([
  [2, 1], [4, 2], [8, 4], [16, 4], [64, 8], [256, 1], [512, 2], [768, 4],
]);

export interface NiftiSpec {
  readonly layout: HeaderLayout;
  readonly littleEndian: boolean;
  readonly dims: readonly [number, number, number];
  readonly datatype: number;
  readonly pixdim: readonly number[];
  readonly qformCode: number;
  readonly sformCode: number;
  readonly quatern: readonly number[];
  readonly srow: readonly number[];
  /** Bytes of one NIfTI extension (esize, ecode, payload); its size must be a multiple of 16. */
  readonly extensionPayload?: Uint8Array;
  /** Voxel values in file order, written in the file's byte order; absent: the header alone. */
  readonly voxels?: ArrayLike<number>;
}

/**
 * Writes a single-file NIfTI from scratch, independently of src/volume: header, extension flag,
 * optional extension, voxels.
 */
export function buildNifti(spec: NiftiSpec): Uint8Array {
  const { layout: L, littleEndian: le } = spec;
  const bpv = SUPPORTED_DATATYPES.get(spec.datatype);
  if (bpv === undefined) throw new Error(`fixture: unsupported datatype ${spec.datatype}`);
  const extension = spec.extensionPayload ? 8 + spec.extensionPayload.length : 0;
  if (extension % 16 !== 0) throw new Error('fixture: an extension is a multiple of 16 bytes');
  const voxOffset = L.size + 4 + extension;
  const count = spec.dims[0] * spec.dims[1] * spec.dims[2];
  const out = new Uint8Array(voxOffset + (spec.voxels ? count * bpv : 0));
  const v = view(out);
  v.setInt32(0, L.size, le);
  if (L.version === 1) {
    out.set([0x6e, 0x2b, 0x31, 0x00], L.magic);
  } else {
    out.set([0x6e, 0x2b, 0x32, 0x00, 0x0d, 0x0a, 0x1a, 0x0a], L.magic);
  }
  [3, ...spec.dims, 1, 1, 1, 1].forEach((d, n) => setField(out, at(L.dim, n), d, le));
  setField(out, L.datatype, spec.datatype, le);
  setField(out, L.bitpix, bpv * 8, le);
  for (let n = 0; n < 8; n++) setField(out, at(L.pixdim, n), spec.pixdim[n] ?? 0, le);
  setField(out, L.voxOffset, voxOffset, le);
  setField(out, L.sclSlope, 0, le);
  setField(out, L.sclInter, 0, le);
  setField(out, L.qformCode, spec.qformCode, le);
  setField(out, L.sformCode, spec.sformCode, le);
  spec.quatern.forEach((q, n) => setField(out, at(L.quatern, n), q, le));
  spec.srow.forEach((s, n) => setField(out, at(L.srow, n), s, le));
  if (spec.extensionPayload) {
    out[L.size] = 1;
    v.setInt32(L.size + 4, extension, le);
    v.setInt32(L.size + 8, 6, le); // NIFTI_ECODE_COMMENT
    out.set(spec.extensionPayload, L.size + 12);
  }
  const writers: Record<number, (o: number, x: number) => void> = {
    2: (o, x) => v.setUint8(o, x),
    4: (o, x) => v.setInt16(o, x, le),
    8: (o, x) => v.setInt32(o, x, le),
    16: (o, x) => v.setFloat32(o, x, le),
    64: (o, x) => v.setFloat64(o, x, le),
    256: (o, x) => v.setInt8(o, x),
    512: (o, x) => v.setUint16(o, x, le),
    768: (o, x) => v.setUint32(o, x, le),
  };
  const write = writers[spec.datatype];
  if (spec.voxels) for (let n = 0; n < count; n++) write(voxOffset + n * bpv, spec.voxels[n]);
  return out;
}

/** Chops `bytes` into a stream of chunks of seeded random sizes in [1, maxChunk]. */
export async function* chunked(bytes: Uint8Array, seed: number, maxChunk = 4096): AsyncGenerator<Uint8Array> {
  const random = seededRandom(seed);
  for (let o = 0; o < bytes.length;) {
    const n = randomInt(random, 1, maxChunk + 1);
    yield bytes.subarray(o, o + n);
    o += n;
  }
}

/** Counts how many chunks a lazy source has handed out. */
export interface PullCounter {
  pulled: number;
}

/**
 * `head`, then `part` repeated `times` times, made only as they are pulled: a source whose full
 * length (gigabytes) is never held anywhere.
 */
export async function* lazyRepeat(
  head: Uint8Array,
  part: Uint8Array,
  times: number,
  counter: PullCounter,
): AsyncGenerator<Uint8Array> {
  counter.pulled++;
  yield head;
  for (let n = 0; n < times; n++) {
    counter.pulled++;
    yield part;
  }
}
