/**
 * The corrupt variants the corrupt-input suite feeds the NIfTI reader, grouped by class of damage,
 * each with the outcome that class must have. Sources are real files or generated ones.
 * @module
 */
import { createGunzip, gunzipSync, gzipSync } from 'node:zlib';
import type { ErrorCode } from '../../src/errors.js';
import type { ByteReaderOptions, ByteSource } from '../../src/volume/byte-reader.js';
import { readNifti } from '../../src/volume/nifti.js';
import type { Volume } from '../../src/volume/volume.js';
import type { Field, HeaderLayout } from './corrupt-fixtures.js';
import {
  NIFTI1_LAYOUT, NIFTI2_LAYOUT, SUPPORTED_DATATYPES, at, buildNifti, chunked, getField, randomInt, seededRandom, setField,
} from './corrupt-fixtures.js';

/** Every variant reads under this cap, so a lying header can never make a test allocate more. */
export const LIMIT: ByteReaderOptions = { maxDecodedBytes: 64 * 1024 * 1024 };
export type Expect =
  /**
   * A VoxgateError with one of `codes` (and a message matching `message`); with `orSameData`, a
   * volume whose voxel bytes equal it is also right.
   */
  | { readonly codes: readonly ErrorCode[]; readonly message?: RegExp; readonly orSameData?: Uint8Array }
  | { readonly volume: true }
  /** Either a volume or a VoxgateError, any code (random damage). */
  | { readonly either: true };

export interface Variant {
  readonly name: string;
  readonly input: () => ByteSource;
  readonly options?: ByteReaderOptions;
  readonly expect: Expect;
}

export function bytesOf(volume: Volume): Uint8Array {
  return new Uint8Array(volume.data.buffer, volume.data.byteOffset, volume.data.byteLength);
}

export interface Source {
  readonly name: string;
  /** The uncompressed .nii bytes. */
  readonly nii: Uint8Array;
  /** The .nii.gz: the file itself when it is stored compressed, else a gzip of `nii`. */
  readonly gz: Uint8Array;
  readonly layout: HeaderLayout;
  readonly le: boolean;
  readonly dims: readonly [number, number, number];
  readonly datatype: number;
  readonly bpv: number;
  readonly voxOffset: number;
  readonly qformCode: number;
  readonly sformCode: number;
  /** Voxel bytes of the intact file as the codec reads them. */
  readonly reference: Uint8Array;
  readonly seed: number;
}

export async function describeSource(name: string, stored: Uint8Array, seed: number): Promise<Source> {
  const compressed = stored[0] === 0x1f && stored[1] === 0x8b;
  const nii = compressed ? new Uint8Array(gunzipSync(stored)) : stored;
  const view = new DataView(nii.buffer, nii.byteOffset, 4);
  const le = view.getInt32(0, true) === 348 || view.getInt32(0, true) === 540;
  const layout = view.getInt32(0, le) === 348 ? NIFTI1_LAYOUT : NIFTI2_LAYOUT;
  const datatype = getField(nii, layout.datatype, le);
  const reference = await readNifti(nii);
  return {
    name, nii, le, layout, datatype,
    gz: compressed ? stored : new Uint8Array(gzipSync(nii, { level: 6 })),
    dims: [1, 2, 3].map((n) => getField(nii, at(layout.dim, n), le)) as unknown as Source['dims'],
    bpv: SUPPORTED_DATATYPES.get(datatype) ?? 0,
    voxOffset: getField(nii, layout.voxOffset, le),
    qformCode: getField(nii, layout.qformCode, le),
    sformCode: getField(nii, layout.sformCode, le),
    reference: Uint8Array.from(bytesOf(reference)),
    seed,
  };
}

/** An oblique NIfTI-2 float32 image with a 48-byte extension, little-endian. */
export function generatedNifti2(): Uint8Array {
  const dims = [7, 6, 5] as const;
  const voxels = Array.from({ length: 7 * 6 * 5 }, (_, n) => (n % 7) - (Math.floor(n / 7) % 6) * 0.5 + Math.floor(n / 42) * 1.25);
  const [c, s] = [Math.cos(0.3), Math.sin(0.3)];
  return buildNifti({
    layout: NIFTI2_LAYOUT, littleEndian: true, dims, datatype: 16,
    pixdim: [1, 1.2, 0.9, 2.5, 1, 0, 0, 0],
    qformCode: 1, sformCode: 1,
    quatern: [0, 0, 0, 10, -20, 30],
    srow: [1.2 * c, -0.9 * s, 0, 10, 1.2 * s, 0.9 * c, 0, -20, 0, 0, 2.5, 30],
    extensionPayload: new TextEncoder().encode('generated NIfTI-2 fixture for Voxgate\0\0\0'),
    voxels,
  });
}

/** A NIfTI-1 int16 image with qfac −1 and a 32-byte extension, big-endian. */
export function generatedBigEndian(): Uint8Array {
  const dims = [9, 8, 7] as const;
  const voxels = Array.from({ length: 9 * 8 * 7 }, (_, n) => ((n * 37 + Math.floor(n / 9) * 101) % 4000) - 1000);
  return buildNifti({
    layout: NIFTI1_LAYOUT, littleEndian: false, dims, datatype: 4,
    pixdim: [-1, 0.8, 0.8, 3, 1, 0, 0, 0],
    qformCode: 1, sformCode: 1,
    quatern: [0, 0, 0, -30, -40, 50],
    srow: [0.8, 0, 0, -30, 0, 0.8, 0, -40, 0, 0, -3, 50],
    extensionPayload: new TextEncoder().encode('big-endian fixture\0\0\0\0\0\0'),
    voxels,
  });
}

export const code = (...codes: ErrorCode[]): Expect => ({ codes });
export const VALID: Expect = { volume: true };

export function uniqueSorted(values: number[], lo: number, hi: number): number[] {
  return [...new Set(values.filter((v) => v >= lo && v < hi))].sort((a, b) => a - b);
}

/** Truncations of the .nii at offsets inside the header, the extension and the data. */
export function niiTruncations(src: Source): Variant[] {
  const random = seededRandom(src.seed);
  const { size } = src.layout;
  const total = src.nii.length;
  const offsets = uniqueSorted(
    [
      1, 2, 3, 4, 10, 100, size - 1, size, size + 2, size + 4, size + 10,
      src.voxOffset - 1, src.voxOffset, src.voxOffset + 1, total - src.bpv, total - 1,
      ...Array.from({ length: 8 }, () => randomInt(random, src.voxOffset, total)),
    ],
    1,
    total,
  );
  // Half go in as one buffer, half as a stream of random small chunks (chunk edges anywhere).
  return offsets.map((cut, n) => ({
    name: `${src.name} .nii cut at ${cut} of ${total} (${n % 2 ? 'stream' : 'buffer'})`,
    input: () => (n % 2 ? chunked(src.nii.subarray(0, cut), src.seed + cut, 4096) : src.nii.subarray(0, cut)),
    expect: code('VXG_ERR_VOLUME_TRUNCATED'),
  }));
}

/** Truncations of the .nii.gz: inside the gzip header, the deflate data and the CRC/ISIZE trailer. */
export function gzTruncations(src: Source): Variant[] {
  const random = seededRandom(src.seed + 1);
  const total = src.gz.length;
  const offsets = uniqueSorted(
    [
      1, 2, 5, 9, 10, 11, 50, total - 9, total - 8, total - 5, total - 1,
      ...Array.from({ length: 8 }, () => randomInt(random, 11, total - 8)),
    ],
    1,
    total,
  );
  return offsets.map((cut, n) => ({
    name: `${src.name} .nii.gz cut at ${cut} of ${total} (${n % 2 ? 'stream' : 'buffer'})`,
    input: () => (n % 2 ? chunked(src.gz.subarray(0, cut), src.seed + cut, 1024) : src.gz.subarray(0, cut)),
    expect: code('VXG_ERR_VOLUME_TRUNCATED'),
  }));
}

export interface HeaderCase {
  readonly cls: string;
  readonly detail: string;
  readonly mutate: (bytes: Uint8Array) => void;
  readonly expect: Expect;
  /** Also fed as a re-compressed .nii.gz (the streaming gunzip path must give the same code). */
  readonly alsoGz?: boolean;
  readonly options?: ByteReaderOptions;
}

/** Single-field damage to the header, each class with the code it must give. */
export function headerCases(src: Source): HeaderCase[] {
  const L = src.layout;
  const le = src.le;
  const set = (field: Field, value: number | bigint) => (b: Uint8Array) => setField(b, field, value, le);
  const dim = (n: number) => at(L.dim, n);
  const cases: HeaderCase[] = [];
  const add = (cls: string, detail: string, mutate: (b: Uint8Array) => void, expect: Expect, extra: Partial<HeaderCase> = {}) =>
    cases.push({ cls, detail, mutate, expect, ...extra });

  // sizeof_hdr: not a NIfTI size → not NIfTI at all.
  for (const v of [0, 1, 347, 349, 539, 541, -348, 2147483647, L.size === 348 ? 540 : 348]) {
    add('sizeof_hdr', `sizeof_hdr ${v}`, (b) => new DataView(b.buffer, b.byteOffset).setInt32(0, v, le), code('VXG_ERR_VOLUME_FORMAT'));
  }
  // The right size in the other byte order: every field is then read byte-swapped; the first
  // check to trip is the datatype (an unknown code) or dim[0] (out of 1..7).
  add('sizeof_hdr', 'sizeof_hdr in the other byte order', (b) => new DataView(b.buffer, b.byteOffset).setInt32(0, L.size, !le),
    code('VXG_ERR_VOLUME_DATATYPE', 'VXG_ERR_VOLUME_HEADER'));

  // magic
  const magics = L.version === 1
    ? ['n+2\0', 'ni1\0', 'xyz\0', '\0\0\0\0', 'N+1\0']
    : ['n+1\0\r\n\x1a\n', 'ni2\0\r\n\x1a\n', 'n+2\0\n\r\x1a\n', 'n+2\0\r\n\x1a\0', '\0\0\0\0\0\0\0\0'];
  for (const m of magics) {
    add('magic', `magic ${JSON.stringify(m)}`, (b) => b.set(Buffer.from(m, 'latin1'), L.magic), code('VXG_ERR_VOLUME_FORMAT'));
  }

  // dim[0]
  for (const v of [0, -1, 8, 9, -32768]) add('dim[0] out of 1..7', `dim[0] ${v}`, set(dim(0), v), code('VXG_ERR_VOLUME_HEADER'));
  if (src.dims[2] > 1) {
    add('dim[0] fewer dimensions', 'dim[0] 2', set(dim(0), 2), code('VXG_ERR_VOLUME_HEADER'), { alsoGz: true });
  }
  if (src.dims[1] * src.dims[2] > 1) add('dim[0] fewer dimensions', 'dim[0] 1', set(dim(0), 1), code('VXG_ERR_VOLUME_HEADER'));
  add('dim[0] more dimensions of size 1', 'dim[0] 4, dim[4] 1', set(dim(0), 4), VALID);
  add('dim[0] more dimensions of size 1', 'dim[0] 3, dim[4] 2 (unused)', set(dim(4), 2), VALID);
  for (const [n0, n, v] of [[4, 4, 2], [5, 5, 3], [7, 7, 2], [4, 4, 1000]]) {
    add('dim[4..7] > 1 (not 3D)', `dim[0] ${n0}, dim[${n}] ${v}`, (b) => {
      setField(b, dim(0), n0, le);
      setField(b, dim(n), v, le);
    }, code('VXG_ERR_VOLUME_NOT_3D'));
  }

  // dim[1..3]
  for (let d = 1; d <= 3; d++) {
    const size = src.dims[d - 1];
    for (const v of [0, -1, -size]) add('dim[1..3] zero or negative', `dim[${d}] ${v}`, set(dim(d), v), code('VXG_ERR_VOLUME_HEADER'));
    for (const v of [size + 1, size * 2]) {
      add('dim[1..3] larger than the data (lying)', `dim[${d}] ${v} (was ${size})`, set(dim(d), v), code('VXG_ERR_VOLUME_TRUNCATED'), { alsoGz: v === size + 1 });
    }
    for (const v of [size - 1, Math.floor(size / 2)]) {
      if (v < 1 || v >= size) continue;
      add('dim[1..3] smaller than the data (lying)', `dim[${d}] ${v} (was ${size})`, set(dim(d), v), code('VXG_ERR_VOLUME_HEADER'), { alsoGz: v === size - 1 });
    }
  }
  const huge = L.version === 1 ? 32767 : 1 << 20;
  add('dim[1..3] huge', `dims ${huge}³`, (b) => [1, 2, 3].forEach((d) => setField(b, dim(d), huge, le)), code('VXG_ERR_VOLUME_TOO_LARGE'), { alsoGz: true });
  add('dim[1..3] huge', `dims ${huge}³ under the default limit`, (b) => [1, 2, 3].forEach((d) => setField(b, dim(d), huge, le)),
    code('VXG_ERR_VOLUME_TOO_LARGE'), { options: {} });
  // One huge axis: over the cap, or a declared size the data does not have.
  const declared = src.voxOffset + huge * src.dims[1] * src.dims[2] * src.bpv;
  add('dim[1..3] huge', `dim[1] ${huge} (${declared} bytes declared)`, set(dim(1), huge),
    code(declared > (LIMIT.maxDecodedBytes ?? 0) ? 'VXG_ERR_VOLUME_TOO_LARGE' : 'VXG_ERR_VOLUME_TRUNCATED'));
  if (L.version === 2) {
    add('dim[1..3] huge', 'dim[2] 2^40', set(dim(2), 2n ** 40n), code('VXG_ERR_VOLUME_TOO_LARGE'));
    add('dim[1..3] huge', 'dim[3] 2^62 (beyond a safe integer)', set(dim(3), 2n ** 62n), code('VXG_ERR_VOLUME_HEADER'));
    add('dim[1..3] huge', 'dims 2^30 × 2^30 × 2^30 (product beyond 2^53)', (b) => [1, 2, 3].forEach((d) => setField(b, dim(d), 2 ** 30, le)),
      code('VXG_ERR_VOLUME_TOO_LARGE'), { options: {} });
  }

  // datatype
  for (const v of [0, 1, 3, 32, 128, 511, 1024, 1280, 1536, 1792, 2048, 2304, 9999, -4]) {
    add('datatype unsupported', `datatype ${v}`, set(L.datatype, v), code('VXG_ERR_VOLUME_DATATYPE'));
  }
  for (const [v, bpv] of SUPPORTED_DATATYPES) {
    if (v === src.datatype) continue;
    const expect = bpv > src.bpv ? code('VXG_ERR_VOLUME_TRUNCATED') : bpv < src.bpv ? code('VXG_ERR_VOLUME_HEADER') : VALID;
    add('datatype of another size (lying)', `datatype ${v} (${bpv} bytes, was ${src.datatype})`, set(L.datatype, v), expect, { alsoGz: v === 64 });
  }

  // vox_offset
  const invalidOffsets: (number | bigint)[] = [0, 100, L.size - 1, -src.voxOffset, L.size + 4 + 64 * 1024 * 1024 + 16];
  if (L.voxOffset.kind === 'f32') invalidOffsets.push(NaN, Infinity, -Infinity, src.voxOffset + 0.5);
  else invalidOffsets.push(2n ** 60n, -(2n ** 63n));
  for (const v of invalidOffsets) add('vox_offset invalid', `vox_offset ${v}`, set(L.voxOffset, v), code('VXG_ERR_VOLUME_HEADER'));
  add('vox_offset after the data start', `vox_offset ${src.voxOffset + 16}`, set(L.voxOffset, src.voxOffset + 16), code('VXG_ERR_VOLUME_TRUNCATED'), { alsoGz: true });
  add('vox_offset after the data start', 'vox_offset 32 MiB (past the end)', set(L.voxOffset, 32 * 1024 * 1024), code('VXG_ERR_VOLUME_TRUNCATED'));
  for (const v of uniqueSorted([L.size, src.voxOffset - 16], L.size, src.voxOffset)) {
    add('vox_offset before the data start', `vox_offset ${v} (was ${src.voxOffset})`, set(L.voxOffset, v), code('VXG_ERR_VOLUME_HEADER'), { alsoGz: true });
  }

  // pixdim: decides the spacing when the qform (or no transform at all) is used, not under an sform.
  const qformOnly = (b: Uint8Array): void => {
    setField(b, L.sformCode, 0, le);
    setField(b, L.qformCode, 1, le);
  };
  for (let d = 1; d <= 3; d++) {
    for (const v of [0, NaN, Infinity, -Infinity]) {
      add('pixdim broken, qform used', `qform only, pixdim[${d}] ${v}`, (b) => {
        qformOnly(b);
        setField(b, at(L.pixdim, d), v, le);
      }, code('VXG_ERR_VOLUME_SPACING'));
    }
    for (const v of [0, NaN]) {
      add('pixdim broken, no qform or sform', `codes 0, pixdim[${d}] ${v}`, (b) => {
        setField(b, L.sformCode, 0, le);
        setField(b, L.qformCode, 0, le);
        setField(b, at(L.pixdim, d), v, le);
      }, code('VXG_ERR_VOLUME_SPACING'));
    }
  }
  for (const v of [0, NaN, Infinity]) {
    add('pixdim broken, sform used (ignored)', `sform 1, pixdim[1] ${v}`, (b) => {
      setField(b, L.sformCode, 1, le);
      setField(b, at(L.pixdim, 1), v, le);
    }, VALID);
  }
  for (const [n, v] of [[3, NaN], [4, Infinity], [5, -Infinity]] as const) {
    add('qoffset not finite, qform used', `qform only, quatern[${n}] ${v}`, (b) => {
      qformOnly(b);
      setField(b, at(L.quatern, n), v, le);
    }, code('VXG_ERR_VOLUME_AFFINE'));
  }

  // srow: the affine itself when sform_code > 0.
  const sform = (edit: (b: Uint8Array) => void) => (b: Uint8Array): void => {
    setField(b, L.sformCode, Math.max(1, src.sformCode), le);
    edit(b);
  };
  const srow = (n: number) => at(L.srow, n);
  for (const [n, v] of [[3, NaN], [7, Infinity], [11, -Infinity]] as const) {
    add('srow translation not finite', `srow[${n}] ${v}`, sform(set(srow(n), v)), code('VXG_ERR_VOLUME_AFFINE'));
  }
  add('srow singular', 'srow column 1 = column 0', sform((b) => {
    for (const r of [0, 4, 8]) setField(b, srow(r + 1), getField(b, srow(r), le), le);
  }), code('VXG_ERR_VOLUME_AFFINE'));
  add('srow singular', 'srow column 2 = 2 × column 0', sform((b) => {
    for (const r of [0, 4, 8]) setField(b, srow(r + 2), 2 * getField(b, srow(r), le), le);
  }), code('VXG_ERR_VOLUME_AFFINE'));
  // A zero or non-finite entry in the linear part makes a voxel axis length zero or non-finite:
  // that is reported as the spacing it implies.
  for (const [n, v] of [[0, NaN], [5, NaN], [10, Infinity]] as const) {
    add('srow axis not finite', `srow[${n}] ${v}`, sform(set(srow(n), v)), code('VXG_ERR_VOLUME_SPACING'));
  }
  add('srow zeros', 'srow all 12 zero', sform((b) => {
    for (let n = 0; n < 12; n++) setField(b, srow(n), 0, le);
  }), code('VXG_ERR_VOLUME_SPACING'));
  add('srow zeros', 'srow linear part zero', sform((b) => {
    for (const n of [0, 1, 2, 4, 5, 6, 8, 9, 10]) setField(b, srow(n), 0, le);
  }), code('VXG_ERR_VOLUME_SPACING'));
  for (const v of [NaN, 0]) {
    add('srow broken, sform_code 0 (ignored)', `sform 0, srow all ${v}`, (b) => {
      setField(b, L.sformCode, 0, le);
      for (let n = 0; n < 12; n++) setField(b, srow(n), v, le);
    }, VALID);
  }
  return cases;
}

export function headerVariants(src: Source, cases: readonly HeaderCase[]): Variant[] {
  const out: Variant[] = [];
  for (const c of cases) {
    const bytes = Uint8Array.from(src.nii);
    c.mutate(bytes);
    out.push({ name: `${src.name} .nii: ${c.detail}`, input: () => bytes, expect: c.expect, options: c.options });
    if (c.alsoGz) {
      const gz = new Uint8Array(gzipSync(bytes, { level: 1 }));
      out.push({ name: `${src.name} .nii.gz: ${c.detail}`, input: () => chunked(gz, src.seed, 8192), expect: c.expect, options: c.options });
    }
  }
  return out;
}

/** 1 to 3 random bytes anywhere in the header XORed with random values. */
export function randomHeaderFlips(src: Source, count: number): Variant[] {
  const random = seededRandom(src.seed + 7);
  return Array.from({ length: count }, (_, n) => {
    const bytes = Uint8Array.from(src.nii);
    const flips: string[] = [];
    for (let k = randomInt(random, 1, 4); k > 0; k--) {
      const offset = randomInt(random, 0, src.layout.size);
      const mask = randomInt(random, 1, 256);
      bytes[offset] ^= mask;
      flips.push(`${offset}^0x${mask.toString(16)}`);
    }
    return { name: `${src.name} random header flip #${n} [${flips.join(' ')}]`, input: () => bytes, expect: { either: true } };
  });
}

/** The first `n` decoded bytes of a (possibly corrupt) gzip stream, or undefined when fewer come out. */
export async function decodedPrefix(gz: Uint8Array, n: number): Promise<Uint8Array | undefined> {
  const gunzip = createGunzip({ chunkSize: 1024 });
  const parts: Buffer[] = [];
  let length = 0;
  await new Promise<void>((resolve) => {
    gunzip.on('data', (chunk: Buffer) => {
      parts.push(chunk);
      length += chunk.length;
      if (length >= n) {
        gunzip.destroy();
        resolve();
      }
    });
    gunzip.on('error', () => resolve());
    gunzip.on('end', () => resolve());
    gunzip.on('close', () => resolve());
    gunzip.end(gz);
  });
  return length >= n ? Buffer.concat(parts).subarray(0, n) : undefined;
}

/**
 * One bit flipped in the deflate data. The CRC must catch it: a corrupt or truncated stream, or,
 * where the flip did not change what decodes (unused code bits), the very same voxels. When the
 * flip reaches the NIfTI header itself (checked with an independent gunzip), the header's own
 * checks may speak first, so any typed error is right.
 */
export async function deflateFlips(src: Source, count: number): Promise<Variant[]> {
  const random = seededRandom(src.seed + 11);
  const headerBytes = src.nii.subarray(0, src.voxOffset);
  const out: Variant[] = [];
  for (let n = 0; n < count; n++) {
    const offset = randomInt(random, 10, src.gz.length - 8);
    const bit = randomInt(random, 0, 8);
    const bytes = Uint8Array.from(src.gz);
    bytes[offset] ^= 1 << bit;
    const prefix = await decodedPrefix(bytes, headerBytes.length);
    const headerIntact = prefix !== undefined && Buffer.from(prefix).equals(headerBytes);
    out.push({
      name: `${src.name} deflate bit flip at ${offset}.${bit}${headerIntact ? '' : ' (reaches the header)'}`,
      input: () => bytes,
      expect: headerIntact
        ? { codes: ['VXG_ERR_VOLUME_CORRUPT', 'VXG_ERR_VOLUME_TRUNCATED'], orSameData: src.reference }
        : { codes: ['VXG_ERR_VOLUME_CORRUPT', 'VXG_ERR_VOLUME_TRUNCATED', 'VXG_ERR_VOLUME_FORMAT', 'VXG_ERR_VOLUME_HEADER',
          'VXG_ERR_VOLUME_DATATYPE', 'VXG_ERR_VOLUME_NOT_3D', 'VXG_ERR_VOLUME_TOO_LARGE', 'VXG_ERR_VOLUME_SPACING',
          'VXG_ERR_VOLUME_AFFINE'], orSameData: src.reference },
    });
  }
  return out;
}

/** The gzip header and trailer (RFC 1952 §2.3): CRC32 and ISIZE damaged, flags and method changed. */
export function gzipFrameVariants(src: Source): Variant[] {
  const gz = src.gz;
  const out: Variant[] = [];
  const variant = (detail: string, edit: (b: Uint8Array) => void, expect: Expect): void => {
    const bytes = Uint8Array.from(gz);
    edit(bytes);
    out.push({ name: `${src.name} .nii.gz ${detail}`, input: () => bytes, expect });
  };
  for (let n = 0; n < 8; n++) {
    variant(`${n < 4 ? 'CRC32' : 'ISIZE'} byte ${n % 4} flipped`, (b) => (b[gz.length - 8 + n] ^= 0x5a), code('VXG_ERR_VOLUME_CORRUPT'));
  }
  variant('second magic byte 0x8c', (b) => (b[1] = 0x8c), code('VXG_ERR_VOLUME_FORMAT'));
  variant('compression method 7', (b) => (b[2] = 7), code('VXG_ERR_VOLUME_CORRUPT'));
  variant('reserved flag bits set', (b) => (b[3] |= 0xe0), code('VXG_ERR_VOLUME_CORRUPT'));
  variant('FHCRC flag set without a header CRC', (b) => (b[3] |= 0x02), code('VXG_ERR_VOLUME_CORRUPT', 'VXG_ERR_VOLUME_TRUNCATED'));
  variant('FNAME flag set without a name', (b) => (b[3] |= 0x08), code('VXG_ERR_VOLUME_CORRUPT', 'VXG_ERR_VOLUME_TRUNCATED'));
  // A deflate stream that decodes to 900 KiB more than the header declares (within the 1 MiB the
  // reader looks past the data), under the intact file's CRC32 and ISIZE: corruption, which must
  // not be blamed on the header. With a matching CRC it is a genuinely lying header.
  const longer = new Uint8Array(gzipSync(Buffer.concat([src.nii, new Uint8Array(900 * 1024).fill(7)]), { level: 1 }));
  const lying = Uint8Array.from(longer);
  lying.set(gz.subarray(gz.length - 8), lying.length - 8);
  out.push({ name: `${src.name} .nii.gz decoding 900 KiB more, original CRC32`, input: () => lying, expect: code('VXG_ERR_VOLUME_CORRUPT') });
  out.push({
    name: `${src.name} .nii.gz decoding 900 KiB more, matching CRC32`,
    input: () => longer,
    expect: { codes: ['VXG_ERR_VOLUME_HEADER'], message: /more data than its header declares/ },
  });
  variant('MTIME changed (harmless)', (b) => (b[5] ^= 0xff), VALID);
  variant('OS byte changed (harmless)', (b) => (b[9] = 0x07), VALID);
  return out;
}

/** The source stream itself fails half-way (a dropped upload). */
export function failingSourceVariants(src: Source): Variant[] {
  const failing = (bytes: Uint8Array) => async function* (): AsyncGenerator<Uint8Array> {
    yield bytes.subarray(0, bytes.length >> 1);
    throw new Error('connection reset by peer');
  };
  return [
    { name: `${src.name} .nii stream fails half-way`, input: failing(src.nii), expect: code('VXG_ERR_VOLUME_CORRUPT', 'VXG_ERR_VOLUME_TRUNCATED') },
    { name: `${src.name} .nii.gz stream fails half-way`, input: failing(src.gz), expect: code('VXG_ERR_VOLUME_CORRUPT', 'VXG_ERR_VOLUME_TRUNCATED') },
  ];
}
