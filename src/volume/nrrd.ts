/**
 * NRRD images with attached data (.nrrd, and .nhdr whose data follows the header): read in raw,
 * gzip, ascii or hex encoding with the geometry of `space`, `space directions` and `space origin`
 * turned into a RAS+ affine; written as NRRD0004 with numbers that read back exactly.
 * Format: http://teem.sourceforge.net/nrrd/format.html
 * @module
 */
import { VoxgateError } from '../errors.js';
import type { Affine } from './affine.js';
import type { ByteReaderOptions, ByteSource } from './byte-reader.js';
import { ByteReader } from './byte-reader.js';
import type { DataType } from './datatype.js';
import { HOST_LITTLE_ENDIAN, VoxelArrayOf, bytesPerVoxel, swapBytes } from './datatype.js';
import { convertVoxels } from './convert.js';
import { gzipParts, DEFAULT_GZIP_LEVEL } from './gzip.js';
import { gunzipInto, parseAsciiInto, parseHexInto, readHeaderText, skipLines } from './nrrd-data.js';
import type { NrrdHeader, NrrdSpace } from './nrrd-header.js';
import { NRRD_TYPE_OF, NrrdSpaces, nrrdGeometry, parseNrrdHeader, toRas } from './nrrd-header.js';
import type { Volume } from './volume.js';
import { createVolume, voxelCount } from './volume.js';

/** How far past the declared data a compressed file is read to tell corruption from a lying header. */
const EXCESS_PROBE_BYTES = 1 << 20;

/**
 * Reads a NRRD image (attached data) from bytes or a stream.
 * @example
 * const volume = await readNrrd(createReadStream('labels.nrrd'), { maxDecodedBytes: 2e9 });
 */
export async function readNrrd(source: ByteSource, options: ByteReaderOptions = {}): Promise<Volume> {
  const reader = await ByteReader.open(source, options);
  try {
    return await decodeNrrd(reader);
  } finally {
    reader.close();
  }
}

/** Decodes a NRRD image from an open reader positioned at the first byte of its `NRRD000x` magic. */
export async function decodeNrrd(reader: ByteReader): Promise<Volume> {
  const start = await reader.peek(8);
  const magic = Buffer.from(start.buffer, start.byteOffset, start.length).toString('latin1');
  if (!/^NRRD000[1-5]$/.test(magic)) {
    if (start.length > 0 && start.length < 8 && 'NRRD0004'.startsWith(magic)) {
      throw new VoxgateError('VXG_ERR_VOLUME_TRUNCATED', `The file ends after ${start.length} bytes, inside its NRRD magic.`);
    }
    throw new VoxgateError(
      'VXG_ERR_VOLUME_FORMAT',
      magic.startsWith('NRRD')
        ? `NRRD version "${magic.replace(/[^\x20-\x7e]/g, '?')}" is not one Voxgate reads (NRRD0001 to NRRD0005).`
        : 'Not a NRRD file: it does not start with NRRD0001 to NRRD0005.',
    );
  }
  const header = parseNrrdHeader(await readHeaderText(reader));
  const { dims, affine, space } = nrrdGeometry(header);
  await skipLines(reader, header.lineSkip);

  const bpv = bytesPerVoxel(header.dataType);
  const dataBytes = voxelCount(dims) * bpv;
  const label = `${dims.join('×')} ${header.dataType}`;
  if (reader.position + header.byteSkip + dataBytes > reader.maxDecodedBytes) {
    throw new VoxgateError(
      'VXG_ERR_VOLUME_TOO_LARGE',
      `The image is ${dims.join('×')} ${header.dataType} (${dataBytes} bytes), over the limit of ${reader.maxDecodedBytes} decoded bytes.`,
    );
  }
  const buffer = new ArrayBuffer(dataBytes);
  const raw = new Uint8Array(buffer);
  const data = new VoxelArrayOf[header.dataType](buffer);
  switch (header.encoding) {
    case 'raw':
      await readRaw(reader, raw, header.byteSkip, label);
      break;
    case 'gzip':
      assertFilled(await gunzipInto(reader, raw, header.byteSkip, reader.position, label), dataBytes, label);
      break;
    case 'hex':
      assertFilled(await parseHexInto(reader, raw, label), dataBytes, label);
      break;
    case 'ascii':
      await parseAsciiInto(reader, data, header.dataType, label);
      break;
  }
  if (header.encoding !== 'ascii' && bpv > 1 && header.littleEndian !== HOST_LITTLE_ENDIAN) swapBytes(raw, bpv);
  return createVolume(dims, data, affine, { format: 'nrrd', nrrd: { space } });
}

async function readRaw(reader: ByteReader, raw: Uint8Array, byteSkip: number, label: string): Promise<void> {
  if ((await reader.skip(byteSkip)) < byteSkip) {
    throw new VoxgateError('VXG_ERR_VOLUME_TRUNCATED', `The file ends within the ${byteSkip} bytes its NRRD "byte skip" names.`);
  }
  assertFilled(await reader.readInto(raw), raw.length, label);
  if (!(await reader.atEnd())) {
    // As for NIfTI: a damaged gzip-compressed file can decode to more bytes than it was made from,
    // and its CRC error only comes at the end; read a bounded stretch to report it as corrupt.
    if (reader.compressed) await reader.skip(Math.max(EXCESS_PROBE_BYTES, raw.length));
    throw new VoxgateError(
      'VXG_ERR_VOLUME_HEADER',
      `The file holds more data than the ${raw.length} bytes its NRRD header declares (${label}); its sizes or type are wrong.`,
    );
  }
}

function assertFilled(got: number, expected: number, label: string): void {
  if (got < expected) {
    throw new VoxgateError(
      'VXG_ERR_VOLUME_TRUNCATED',
      `The file holds ${got} of the ${expected} bytes of voxel data its NRRD header declares (${label}): it is truncated or its header is wrong.`,
    );
  }
}

export interface NrrdWriteOptions {
  /** Voxel type to store; defaults to the volume's. */
  dataType?: DataType;
  /** gzip (default) or raw. */
  encoding?: 'gzip' | 'raw';
  level?: number;
  /** The file's world space; defaults to the source's NRRD space, else left-posterior-superior. */
  space?: NrrdSpace;
}

/**
 * Encodes a volume as a NRRD0004 file with attached data, little-endian. Every number is written in
 * JavaScript's shortest round-trip form, so the affine read back equals the volume's exactly.
 * @example
 * await writeFile('labels.nrrd', await encodeNrrd(labels, { dataType: 'uint8' }));
 */
export async function encodeNrrd(volume: Volume, options: NrrdWriteOptions = {}): Promise<Buffer> {
  const dataType = options.dataType ?? volume.dataType;
  const encoding = options.encoding ?? 'gzip';
  const space = options.space ?? sourceSpace(volume) ?? 'left-posterior-superior';
  const header = Buffer.from(nrrdHeaderText(volume, dataType, encoding, space), 'latin1');
  const data = dataType === volume.dataType ? volume.data : convertVoxels(volume.data, dataType);
  let bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (!HOST_LITTLE_ENDIAN) {
    bytes = Uint8Array.from(bytes);
    swapBytes(bytes, bytesPerVoxel(dataType));
  }
  if (encoding === 'raw') return Buffer.concat([header, bytes]);
  return Buffer.concat([header, await gzipParts([bytes], options.level ?? DEFAULT_GZIP_LEVEL)]);
}

function sourceSpace(volume: Volume): NrrdSpace | undefined {
  const space = volume.source.format === 'nrrd' ? volume.source.nrrd?.space : undefined;
  return NrrdSpaces.find((known) => known === space);
}

function nrrdHeaderText(volume: Volume, dataType: DataType, encoding: NrrdHeader['encoding'], space: NrrdSpace): string {
  const a: Affine = toRas(volume.affine, space); // toRas is its own inverse
  const vector = (v: readonly number[]): string => `(${v.map((x) => String(x)).join(',')})`;
  const column = (c: number): string => vector([a[c], a[4 + c], a[8 + c]]);
  return [
    'NRRD0004',
    '# Complete NRRD file format specification at:',
    '# http://teem.sourceforge.net/nrrd/format.html',
    `type: ${NRRD_TYPE_OF[dataType]}`,
    'dimension: 3',
    `space: ${space}`,
    `sizes: ${volume.dims.join(' ')}`,
    `space directions: ${column(0)} ${column(1)} ${column(2)}`,
    'kinds: domain domain domain',
    'endian: little',
    `encoding: ${encoding}`,
    `space origin: ${vector([a[3], a[7], a[11]])}`,
    '',
    '',
  ].join('\n');
}
