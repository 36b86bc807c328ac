/**
 * The few Part 10 facts the protocol clients need without decoding a dataset (PS3.10 §7.1): the
 * File Meta Information of a file that is still arriving, a meta header for a dataset received
 * over DIMSE, and the Study / Series Instance UIDs near the start of a dataset.
 *
 * Everything here reads a prefix of the bytes and answers `undefined` ("need more") rather than
 * guessing, so a caller can decide from the first kilobytes of a stream where it goes.
 * @module
 */

/** Transfer syntax UIDs (PS3.6 Annex A) the clients name. */
export const TransferSyntaxUids = {
  ImplicitVRLittleEndian: '1.2.840.10008.1.2',
  ExplicitVRLittleEndian: '1.2.840.10008.1.2.1',
  DeflatedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.99',
  ExplicitVRBigEndian: '1.2.840.10008.1.2.2',
  JPEGBaseline8Bit: '1.2.840.10008.1.2.4.50',
  JPEGExtended12Bit: '1.2.840.10008.1.2.4.51',
  JPEGLossless: '1.2.840.10008.1.2.4.57',
  JPEGLosslessSV1: '1.2.840.10008.1.2.4.70',
  JPEGLSLossless: '1.2.840.10008.1.2.4.80',
  JPEGLSNearLossless: '1.2.840.10008.1.2.4.81',
  JPEG2000Lossless: '1.2.840.10008.1.2.4.90',
  JPEG2000: '1.2.840.10008.1.2.4.91',
  RLELossless: '1.2.840.10008.1.2.5',
} as const;

/**
 * Voxgate's Implementation Class UID (PS3.7 D.3.3.2) in the meta headers it writes: a UUID-derived
 * UID (2.25, PS3.5 §B.2), fixed so that files can be traced to Voxgate.
 */
export const IMPLEMENTATION_CLASS_UID = '2.25.190160813316152420775539016566870571213';
export const IMPLEMENTATION_VERSION_NAME = 'VOXGATE_0';

/**
 * True when `value` can be a UID: digits and dots only, no empty component, at most 64 characters
 * (PS3.5 §9.1). Leading zeros inside a component are tolerated (some modalities write them); what
 * matters to us is that a UID is safe as a file name and as a URL path segment.
 */
export function isUid(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 64 && /^[0-9]+(\.[0-9]+)*$/.test(value);
}

export interface FileMeta {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly transferSyntaxUid: string;
  /** Offset of the first byte after the meta header: where the dataset starts. */
  readonly datasetOffset: number;
}

/** Thrown by {@link readFileMeta} on bytes that cannot be a Part 10 file; the caller wraps it. */
export class Part10Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Part10Error';
  }
}

const PREAMBLE = 128;
const META_START = PREAMBLE + 4;

/**
 * The File Meta Information at the start of `bytes`, or `undefined` when more bytes are needed.
 * Throws {@link Part10Error} when there is no `DICM` marker or the meta header is broken or lacks
 * the SOP Class, SOP Instance or Transfer Syntax UID.
 * @example
 * const meta = readFileMeta(firstChunk); // { sopInstanceUid: '1.2.3…', datasetOffset: 330, … }
 */
export function readFileMeta(bytes: Uint8Array): FileMeta | undefined {
  if (bytes.length < META_START) return undefined;
  if (bytes[128] !== 0x44 || bytes[129] !== 0x49 || bytes[130] !== 0x43 || bytes[131] !== 0x4d) {
    throw new Part10Error('no "DICM" marker after the 128-byte preamble');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Map<number, string>();
  let offset = META_START;
  // Walk the group 0002 elements (always explicit VR little endian, PS3.10 §7.1) rather than trust
  // the group length: some writers leave it out or get it wrong.
  for (;;) {
    if (bytes.length < offset + 8) return undefined;
    const group = view.getUint16(offset, true);
    if (group !== 0x0002) break;
    const element = view.getUint16(offset + 2, true);
    const vr = String.fromCharCode(bytes[offset + 4], bytes[offset + 5]);
    let length: number;
    let header: number;
    if (vr === 'OB' || vr === 'OW' || vr === 'UN' || vr === 'UT' || vr === 'SQ' || vr === 'UC' || vr === 'UR') {
      if (bytes.length < offset + 12) return undefined;
      length = view.getUint32(offset + 8, true);
      header = 12;
    } else if (/^[A-Z]{2}$/.test(vr)) {
      length = view.getUint16(offset + 6, true);
      header = 8;
    } else {
      throw new Part10Error('the file meta header is not explicit VR little endian');
    }
    if (length === 0xffffffff || length > 65536) throw new Part10Error('the file meta header has an impossible element length');
    if (bytes.length < offset + header + length) return undefined;
    if (element === 0x0002 || element === 0x0003 || element === 0x0010) {
      values.set(element, asciiValue(bytes, offset + header, length));
    }
    offset += header + length;
  }
  const sopClassUid = values.get(0x0002) ?? '';
  const sopInstanceUid = values.get(0x0003) ?? '';
  const transferSyntaxUid = values.get(0x0010) ?? '';
  if (!transferSyntaxUid) throw new Part10Error('the file meta header has no Transfer Syntax UID');
  if (!sopInstanceUid) throw new Part10Error('the file meta header has no Media Storage SOP Instance UID');
  return { sopClassUid, sopInstanceUid, transferSyntaxUid, datasetOffset: offset };
}

/** A string value without the trailing NUL or space padding (PS3.5 §6.2). */
function asciiValue(bytes: Uint8Array, start: number, length: number): string {
  let end = start + length;
  while (end > start && (bytes[end - 1] === 0 || bytes[end - 1] === 0x20)) end--;
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

export interface MetaFields {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  /** Source Application Entity Title (0002,0016): who sent it, for a received instance. */
  sourceAeTitle?: string;
}

/**
 * Preamble, `DICM` and File Meta Information for a dataset encoded in `transferSyntaxUid`:
 * prepended to the dataset bytes of a C-STORE, it makes a Part 10 file.
 */
export function encodeFileMeta(fields: MetaFields): Buffer {
  const elements: Buffer[] = [
    element(0x0001, 'OB', Buffer.from([0x00, 0x01])),
    element(0x0002, 'UI', uidBytes(fields.sopClassUid)),
    element(0x0003, 'UI', uidBytes(fields.sopInstanceUid)),
    element(0x0010, 'UI', uidBytes(fields.transferSyntaxUid)),
    element(0x0012, 'UI', uidBytes(IMPLEMENTATION_CLASS_UID)),
    element(0x0013, 'SH', textBytes(IMPLEMENTATION_VERSION_NAME)),
  ];
  if (fields.sourceAeTitle) elements.push(element(0x0016, 'AE', textBytes(fields.sourceAeTitle.trim())));
  const body = Buffer.concat(elements);
  const groupLength = element(0x0000, 'UL', Buffer.alloc(4));
  groupLength.writeUInt32LE(body.length, 8);
  const head = Buffer.alloc(META_START);
  head.write('DICM', PREAMBLE, 'latin1');
  return Buffer.concat([head, groupLength, body]);
}

function element(elementNumber: number, vr: string, value: Buffer): Buffer {
  const long = vr === 'OB';
  const out = Buffer.alloc((long ? 12 : 8) + value.length);
  out.writeUInt16LE(0x0002, 0);
  out.writeUInt16LE(elementNumber, 2);
  out.write(vr, 4, 'latin1');
  if (long) out.writeUInt32LE(value.length, 8);
  else out.writeUInt16LE(value.length, 6);
  value.copy(out, long ? 12 : 8);
  return out;
}

/** UI values pad to even length with NUL, other strings with a space (PS3.5 §6.2). */
function uidBytes(uid: string): Buffer {
  return Buffer.from(uid.length % 2 === 1 ? `${uid}\0` : uid, 'latin1');
}

function textBytes(text: string): Buffer {
  return Buffer.from(text.length % 2 === 1 ? `${text} ` : text, 'latin1');
}

export interface StudySeries {
  readonly studyInstanceUid?: string;
  readonly seriesInstanceUid?: string;
}

const STUDY_TAG = 0x0020000d;
const SERIES_TAG = 0x0020000e;
const ITEM = 0xfffee000;
const SEQUENCE_DELIMITER = 0xfffee0dd;
const ITEM_DELIMITER = 0xfffee00d;
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

/** One top-level data element found by {@link topLevelElements}. */
export interface ElementSpan {
  readonly tag: number;
  /** Explicit VR, or '' in implicit VR syntax. */
  readonly vr: string;
  /** Offset of the tag. */
  readonly start: number;
  /** Offset of the value. */
  readonly valueOffset: number;
  /** Value length; 0xFFFFFFFF for undefined length. */
  readonly length: number;
  /** Offset after the element (sequence delimiter included). */
  readonly end: number;
}

/**
 * The top-level elements of the dataset that starts at `offset`, in order, for as long as the bytes
 * hold whole elements (a prefix is fine: the walk stops at the first incomplete one). Little endian
 * syntaxes only (explicit or implicit VR, encapsulated pixel data included); yields nothing for
 * deflated and big endian datasets.
 */
export function* topLevelElements(bytes: Uint8Array, offset: number, transferSyntaxUid: string): Generator<ElementSpan> {
  if (transferSyntaxUid === TransferSyntaxUids.DeflatedExplicitVRLittleEndian || transferSyntaxUid === TransferSyntaxUids.ExplicitVRBigEndian) return;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const walker = new Walker(bytes, view, transferSyntaxUid === TransferSyntaxUids.ImplicitVRLittleEndian);
  let at = offset;
  while (at + 8 <= bytes.length) {
    const head = walker.header(at);
    if (!head) return;
    const end = walker.skip(at, head);
    if (end === undefined) return;
    yield { tag: head.tag, vr: head.vr, start: at, valueOffset: at + head.size, length: head.length, end };
    at = end;
  }
}

/** A top-level string value (trailing padding removed), or undefined when absent. */
export function stringValue(bytes: Uint8Array, element: ElementSpan): string {
  return element.length === 0xffffffff ? '' : asciiValue(bytes, element.valueOffset, element.length);
}

/**
 * Study and Series Instance UID of the dataset that starts at `offset`, read from a prefix of the
 * bytes; `{}` when the prefix ends first or the syntax is deflated or big endian.
 */
export function readStudySeries(bytes: Uint8Array, offset: number, transferSyntaxUid: string): StudySeries {
  const found: { studyInstanceUid?: string; seriesInstanceUid?: string } = {};
  for (const element of topLevelElements(bytes, offset, transferSyntaxUid)) {
    if (element.tag > SERIES_TAG) break;
    if (element.tag === STUDY_TAG) found.studyInstanceUid = stringValue(bytes, element);
    if (element.tag === SERIES_TAG) found.seriesInstanceUid = stringValue(bytes, element);
  }
  return found;
}

interface ElementHeader {
  readonly tag: number;
  readonly vr: string;
  readonly length: number;
  /** Bytes of tag, VR and length. */
  readonly size: number;
}

/** Just enough of PS3.5 §7 to step over elements, sequences and items, bounds-checked. */
class Walker {
  constructor(
    private readonly bytes: Uint8Array,
    private readonly view: DataView,
    private readonly implicit: boolean,
  ) {}

  header(at: number): ElementHeader | undefined {
    if (at + 8 > this.bytes.length) return undefined;
    const tag = ((this.view.getUint16(at, true) << 16) | this.view.getUint16(at + 2, true)) >>> 0;
    if (tag === ITEM || tag === ITEM_DELIMITER || tag === SEQUENCE_DELIMITER) {
      return { tag, vr: '', length: this.view.getUint32(at + 4, true), size: 8 };
    }
    if (this.implicit) return { tag, vr: '', length: this.view.getUint32(at + 4, true), size: 8 };
    const vr = String.fromCharCode(this.bytes[at + 4], this.bytes[at + 5]);
    if (LONG_VRS.has(vr)) {
      if (at + 12 > this.bytes.length) return undefined;
      return { tag, vr, length: this.view.getUint32(at + 8, true), size: 12 };
    }
    return { tag, vr, length: this.view.getUint16(at + 6, true), size: 8 };
  }

  /** Offset after the element at `at`, or undefined when it runs past the prefix. */
  skip(at: number, head: ElementHeader): number | undefined {
    if (head.length !== 0xffffffff) {
      const end = at + head.size + head.length;
      return end <= this.bytes.length ? end : undefined;
    }
    // Undefined length: a sequence (or encapsulated pixel data) of items up to its delimiter.
    let pos = at + head.size;
    for (;;) {
      const item = this.header(pos);
      if (!item) return undefined;
      if (item.tag === SEQUENCE_DELIMITER) return pos + 8;
      if (item.tag !== ITEM) return undefined;
      if (item.length !== 0xffffffff) {
        pos += 8 + item.length;
        continue;
      }
      // An item of undefined length: its elements up to the item delimiter.
      pos += 8;
      for (;;) {
        const inner = this.header(pos);
        if (!inner) return undefined;
        if (inner.tag === ITEM_DELIMITER) {
          pos += 8;
          break;
        }
        const next = this.skip(pos, inner);
        if (next === undefined) return undefined;
        pos = next;
      }
    }
  }
}
