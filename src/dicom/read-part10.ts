/**
 * DICOM Part 10 files (PS3.10 §7): preamble, "DICM", file meta information in explicit VR little
 * endian, then the dataset in the transfer syntax the meta information names (deflated datasets are
 * inflated first). Files without the preamble that start directly with a group 0002 or 0008
 * element (old exports) are read too.
 *
 * Every failure is a VoxgateError whose message starts with the file's name:
 * VXG_ERR_DICOM_NOT_DICOM, VXG_ERR_DICOM_TRUNCATED, VXG_ERR_DICOM_MALFORMED.
 * @module
 */
import { inflateRawSync } from 'node:zlib';
import type { NaturalizedDataset } from 'dcmjs';
import { data as dcmjsData, log as dcmjsLog } from 'dcmjs';
import { VoxgateError } from '../errors.js';
import type { DicomDataset } from './dataset.js';
import type { Syntax } from './parse-elements.js';
import { EXPLICIT_BE, EXPLICIT_LE, ElementParser, IMPLICIT_LE, isVr } from './parse-elements.js';
import { Tag, TransferSyntax } from './tags.js';

export interface Part10File {
  /** The name errors and skip reasons use (a path relative to the folder read, or the name given). */
  readonly name: string;
  readonly transferSyntaxUID: string;
  /** File meta information (group 0002); empty for a file without it. */
  readonly meta: DicomDataset;
  readonly dataset: DicomDataset;
  /** SOPClassUID, or MediaStorageSOPClassUID where the dataset leaves it empty. */
  readonly sopClassUID: string;
  /** SOPInstanceUID, or MediaStorageSOPInstanceUID where the dataset leaves it empty. */
  readonly sopInstanceUID: string;
  /**
   * The dataset as dcmjs naturalises it (keyword → value, character sets decoded, pixel data left
   * out), parsed on first call and kept: what dcmjs' derivation and SEG tools take.
   */
  naturalized(): NaturalizedDataset;
}

const DICM = [0x44, 0x49, 0x43, 0x4d];

/**
 * Parses one file's bytes. `bytes` is kept (values are views on it), not copied.
 * @example
 * const file = readPart10('CT/IM0001.dcm', await readFile('CT/IM0001.dcm'));
 * file.dataset.number(Tag.Rows); // 512
 */
export function readPart10(name: string, bytes: Uint8Array): Part10File {
  const parser = new ElementParser(name, bytes);
  let meta: DicomDataset;
  let datasetStart: number;
  if (bytes.length >= 132 && DICM.every((b, n) => bytes[128 + n] === b)) {
    const parsed = parseMeta(parser, bytes, 132);
    meta = parsed.meta;
    datasetStart = parsed.end;
  } else if (bytes.length >= 8 && bytes[1] === 0 && bytes[0] === 0x02 && bytes[3] === 0x00 && isVr(bytes[4], bytes[5])) {
    // No preamble, but file meta information right at the start.
    const parsed = parseMeta(parser, bytes, 0);
    meta = parsed.meta;
    datasetStart = parsed.end;
  } else if (bytes.length >= 8 && bytes[0] === 0x08 && bytes[1] === 0x00 && bytes[3] === 0x00) {
    // A bare dataset (no preamble, no meta information) starting with group 0008.
    meta = parser.dataset(0, 0, EXPLICIT_LE).dataset;
    datasetStart = 0;
  } else {
    throw new VoxgateError(
      'VXG_ERR_DICOM_NOT_DICOM',
      `${name}: not a DICOM file (${bytes.length < 132 ? `only ${bytes.length} bytes` : 'no "DICM" marker at byte 128'}).`,
    );
  }

  let transferSyntaxUID = meta.string(Tag.TransferSyntaxUID) ?? '';
  let syntax: Syntax;
  let datasetBytes = bytes;
  let datasetParser = parser;
  if (transferSyntaxUID === TransferSyntax.DeflatedExplicitVRLittleEndian) {
    try {
      datasetBytes = inflateRawSync(bytes.subarray(datasetStart));
    } catch (err) {
      const truncated = (err as { code?: string }).code === 'Z_BUF_ERROR';
      throw new VoxgateError(
        truncated ? 'VXG_ERR_DICOM_TRUNCATED' : 'VXG_ERR_DICOM_MALFORMED',
        `${name}: the deflated dataset cannot be inflated (${(err as Error).message}).`,
        { cause: err },
      );
    }
    datasetParser = new ElementParser(name, datasetBytes);
    datasetStart = 0;
    syntax = EXPLICIT_LE;
  } else if (transferSyntaxUID === TransferSyntax.ImplicitVRLittleEndian) {
    syntax = IMPLICIT_LE;
  } else if (transferSyntaxUID === TransferSyntax.ExplicitVRBigEndian) {
    syntax = EXPLICIT_BE;
  } else if (transferSyntaxUID === '') {
    // No meta information: tell explicit from implicit VR by whether bytes 4–5 spell a VR.
    syntax = bytes.length >= datasetStart + 6 && isVr(bytes[datasetStart + 4], bytes[datasetStart + 5]) ? EXPLICIT_LE : IMPLICIT_LE;
    transferSyntaxUID = syntax.implicit ? TransferSyntax.ImplicitVRLittleEndian : TransferSyntax.ExplicitVRLittleEndian;
  } else {
    // Every other syntax (the encapsulated ones included) encodes the dataset in explicit VR LE.
    syntax = EXPLICIT_LE;
  }
  const dataset = datasetParser.dataset(datasetStart, datasetBytes.length, syntax).dataset;
  let natural: NaturalizedDataset | undefined;
  return {
    name,
    transferSyntaxUID,
    meta,
    dataset,
    sopClassUID: dataset.string(Tag.SOPClassUID) ?? meta.string(Tag.MediaStorageSOPClassUID) ?? '',
    sopInstanceUID: dataset.string(Tag.SOPInstanceUID) ?? meta.string(Tag.MediaStorageSOPInstanceUID) ?? '',
    naturalized: () => (natural ??= naturalize(name, bytes)),
  };
}

function parseMeta(parser: ElementParser, bytes: Uint8Array, start: number): { meta: DicomDataset; end: number } {
  // (0002,0000) UL, explicit VR LE: 12 bytes, its value the length of the rest of the group.
  if (bytes.length >= start + 12 && bytes[start] === 0x02 && bytes[start + 1] === 0 && bytes[start + 2] === 0 && bytes[start + 3] === 0) {
    const groupLength = new DataView(bytes.buffer, bytes.byteOffset + start + 8, 4).getUint32(0, true);
    const end = start + 12 + groupLength;
    if (end <= bytes.length) {
      const parsed = parser.dataset(start, end, EXPLICIT_LE);
      // Some writers get the group length wrong; trust it only when the next element is not group 0002.
      if (!(end + 2 <= bytes.length && bytes[end] === 0x02 && bytes[end + 1] === 0)) return { meta: parsed.dataset, end };
    }
  }
  const parsed = parser.dataset(start, bytes.length, EXPLICIT_LE, { onlyGroup: 0x0002 });
  return { meta: parsed.dataset, end: parsed.end };
}

/**
 * dcmjs' naturalised dataset, pixel data left out, dcmjs' validation chatter silenced meanwhile.
 * dcmjs is stricter than our walker in places (a wrong meta group length) and throws plain errors:
 * those become VXG_ERR_DICOM_MALFORMED naming the file.
 */
function naturalize(name: string, bytes: Uint8Array): NaturalizedDataset {
  const validation = dcmjsLog.getLogger('validation.dcmjs');
  const level = validation.getLevel();
  validation.setLevel('silent');
  try {
    const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const dict = dcmjsData.DicomMessage.readFile(copy, { untilTag: '7FE00010', includeUntilTagValue: false, noCopy: true });
    delete dict.dict['7FE00010'];
    const natural = dcmjsData.DicomMetaDictionary.naturalizeDataset(dict.dict);
    natural._meta = dcmjsData.DicomMetaDictionary.naturalizeDataset(dict.meta);
    return natural;
  } catch (err) {
    throw new VoxgateError('VXG_ERR_DICOM_MALFORMED', `${name}: dcmjs cannot read the dataset (${(err as Error).message}).`, { cause: err });
  } finally {
    validation.setLevel(levelName(level));
  }
}

function levelName(level: number): 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent' {
  return (['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const)[level] ?? 'warn';
}
