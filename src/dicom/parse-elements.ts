/**
 * The data element walker behind read-part10.ts (PS3.5 §7): explicit and implicit VR, little and
 * big endian, sequences and items of defined and undefined length, encapsulated pixel data.
 *
 * Why not dcmjs' `DicomMessage.readFile`: it does not notice a truncated file (a value declared
 * longer than the file comes back zero-filled, a file cut before its pixel data parses without
 * them), it copies every binary value, and it wraps each element in a Proxy, ~1–3 ms per CT slice.
 * This walker checks every length against the bytes left, keeps values as byte ranges and parses a
 * 512×512 slice in a few microseconds. dcmjs is still used for its data dictionary (the VRs of
 * implicit VR files) and for naturalised datasets.
 * @module
 */
import { data as dcmjsData } from 'dcmjs';
import { VoxgateError } from '../errors.js';
import type { ElementRef } from './dataset.js';
import { DicomDataset } from './dataset.js';
import { Tag, tagString } from './tags.js';

/** VRs whose explicit encoding has 2 reserved bytes and a 32-bit length (PS3.5 Table 7.1-1). */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const SHORT_VRS = new Set([
  'AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FL', 'FD', 'IS', 'LO', 'LT', 'PN', 'SH', 'SL', 'SS', 'ST', 'TM', 'UI', 'UL', 'US',
]);
const UNDEFINED_LENGTH = 0xffffffff;
const MAX_DEPTH = 32;

export interface Syntax {
  readonly littleEndian: boolean;
  readonly implicit: boolean;
}

export const IMPLICIT_LE: Syntax = { littleEndian: true, implicit: true };
export const EXPLICIT_LE: Syntax = { littleEndian: true, implicit: false };
export const EXPLICIT_BE: Syntax = { littleEndian: false, implicit: false };

/** True when two bytes are a VR that PS3.5 defines. */
export function isVr(a: number, b: number): boolean {
  const vr = String.fromCharCode(a, b);
  return LONG_VRS.has(vr) || SHORT_VRS.has(vr);
}

const implicitVrs = new Map<number, string>();

/** The VR of a tag from the data dictionary (implicit VR files), `UN` for private and unknown tags. */
export function dictionaryVr(tag: number): string {
  let vr = implicitVrs.get(tag);
  if (vr === undefined) {
    if ((tag & 0xffff) === 0) vr = 'UL'; // group length
    else if ((tag >>> 16) % 2 === 1) vr = 'UN'; // private
    else {
      const entry = dcmjsData.DicomMetaDictionary.dictionary[tagString(tag)];
      // 'ox' (OB or OW) and 'xs' (US or SS) depend on other elements; pixel data in implicit VR is OW.
      vr = entry?.vr === 'ox' ? 'OW' : entry?.vr === 'xs' ? 'US' : entry && (LONG_VRS.has(entry.vr) || SHORT_VRS.has(entry.vr)) ? entry.vr : 'UN';
    }
    implicitVrs.set(tag, vr);
  }
  return vr;
}

/** Walks the elements of one file; `name` goes into every error message. */
export class ElementParser {
  readonly #name: string;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #depth = 0;

  constructor(name: string, bytes: Uint8Array) {
    this.#name = name;
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /**
   * Parses elements from `start` to `end`. With `inUndefinedItem` it stops after an Item
   * Delimitation Item; with `onlyGroup` it stops before the first element of another group (the
   * file meta information without a group length).
   */
  dataset(start: number, end: number, syntax: Syntax, options: { inUndefinedItem?: boolean; onlyGroup?: number } = {}): { dataset: DicomDataset; end: number } {
    // Real datasets nest a handful of levels; a crafted one must not exhaust the stack.
    if (this.#depth >= MAX_DEPTH) throw this.#malformed(start, `sequences nested more than ${MAX_DEPTH} deep`);
    this.#depth++;
    try {
      return this.#elements(start, end, syntax, options);
    } finally {
      this.#depth--;
    }
  }

  #elements(start: number, end: number, syntax: Syntax, options: { inUndefinedItem?: boolean; onlyGroup?: number }): { dataset: DicomDataset; end: number } {
    const elements = new Map<number, ElementRef>();
    const le = syntax.littleEndian;
    const view = this.#view;
    let pos = start;
    while (pos < end) {
      // A few zero bytes of padding after the last element are harmless.
      if (end - pos < 8 && !options.inUndefinedItem && this.#bytes.subarray(pos, end).every((byte) => byte === 0)) break;
      this.#need(pos, 8, end, 'an element header');
      const group = view.getUint16(pos, le);
      const tag = ((group << 16) | view.getUint16(pos + 2, le)) >>> 0;
      if (options.onlyGroup !== undefined && group !== options.onlyGroup) break;
      if (tag === Tag.ItemDelimitationItem) {
        if (options.inUndefinedItem) return { dataset: this.#make(elements, syntax), end: pos + 8 };
        throw this.#malformed(pos, 'an Item Delimitation Item outside an item');
      }
      if (tag === Tag.Item || tag === Tag.SequenceDelimitationItem) throw this.#malformed(pos, `${tagString(tag)} where a data element must be`);
      let vr: string;
      let length: number;
      let valuePos: number;
      if (syntax.implicit) {
        vr = dictionaryVr(tag);
        length = view.getUint32(pos + 4, le);
        valuePos = pos + 8;
      } else {
        const a = this.#bytes[pos + 4];
        const b = this.#bytes[pos + 5];
        vr = String.fromCharCode(a, b);
        if (LONG_VRS.has(vr)) {
          this.#need(pos, 12, end, `the header of ${tagString(tag)}`);
          length = view.getUint32(pos + 8, le);
          valuePos = pos + 12;
        } else if (SHORT_VRS.has(vr)) {
          length = view.getUint16(pos + 6, le);
          valuePos = pos + 8;
        } else {
          throw this.#malformed(pos, `${tagString(tag)} has no valid VR (bytes ${a}, ${b}) in an explicit VR dataset`);
        }
      }
      if (length === UNDEFINED_LENGTH) {
        if (tag === Tag.PixelData && vr !== 'SQ') {
          const { ref, end: after } = this.#encapsulated(valuePos, end, vr);
          elements.set(tag, ref);
          pos = after;
        } else if (vr === 'SQ' || vr === 'UN' || syntax.implicit) {
          // CP-246: a UN of undefined length is a sequence encoded in implicit VR little endian.
          const itemSyntax = vr === 'UN' ? IMPLICIT_LE : syntax;
          const { items, end: after } = this.#undefinedSequence(valuePos, end, itemSyntax, tag);
          elements.set(tag, { vr: 'SQ', offset: valuePos, length: after - valuePos, items });
          pos = after;
        } else {
          throw this.#malformed(pos, `${tagString(tag)} (${vr}) has an undefined length`);
        }
      } else {
        this.#need(valuePos, length, end, `the value of ${tagString(tag)} (${length} bytes declared)`);
        elements.set(tag, { vr, offset: valuePos, length });
        pos = valuePos + length;
      }
    }
    if (options.inUndefinedItem) throw this.#truncated('the file ends inside an item of undefined length');
    return { dataset: this.#make(elements, syntax), end: pos };
  }

  /** Items of a defined-length sequence value (parsed on first use, see DicomDataset.items). */
  definedItems(ref: ElementRef, syntax: Syntax): DicomDataset[] {
    const items: DicomDataset[] = [];
    const end = ref.offset + ref.length;
    let pos = ref.offset;
    while (pos < end) {
      this.#need(pos, 8, end, 'an item header');
      const tag = this.#tag(pos, syntax.littleEndian);
      const length = this.#view.getUint32(pos + 4, syntax.littleEndian);
      if (tag === Tag.SequenceDelimitationItem) break;
      if (tag !== Tag.Item) throw this.#malformed(pos, `${tagString(tag)} where a sequence item must be`);
      if (length === UNDEFINED_LENGTH) {
        const parsed = this.dataset(pos + 8, end, syntax, { inUndefinedItem: true });
        items.push(parsed.dataset);
        pos = parsed.end;
      } else {
        if (pos + 8 + length > end) throw this.#malformed(pos, `an item of ${length} bytes overruns its sequence`);
        items.push(this.dataset(pos + 8, pos + 8 + length, syntax).dataset);
        pos += 8 + length;
      }
    }
    return items;
  }

  #undefinedSequence(start: number, end: number, syntax: Syntax, owner: number): { items: DicomDataset[]; end: number } {
    const items: DicomDataset[] = [];
    let pos = start;
    for (;;) {
      this.#need(pos, 8, end, `an item of ${tagString(owner)}`);
      const tag = this.#tag(pos, syntax.littleEndian);
      const length = this.#view.getUint32(pos + 4, syntax.littleEndian);
      if (tag === Tag.SequenceDelimitationItem) return { items, end: pos + 8 };
      if (tag !== Tag.Item) throw this.#malformed(pos, `${tagString(tag)} where an item of ${tagString(owner)} must be`);
      if (length === UNDEFINED_LENGTH) {
        const parsed = this.dataset(pos + 8, end, syntax, { inUndefinedItem: true });
        items.push(parsed.dataset);
        pos = parsed.end;
      } else {
        if (pos + 8 + length > end) this.#need(pos + 8, length, end, `an item of ${tagString(owner)}`);
        items.push(this.dataset(pos + 8, pos + 8 + length, syntax).dataset);
        pos += 8 + length;
      }
    }
  }

  /** PS3.5 A.4: an item holding the Basic Offset Table, fragment items, a Sequence Delimitation Item. */
  #encapsulated(start: number, end: number, vr: string): { ref: ElementRef; end: number } {
    const fragments: Uint8Array[] = [];
    let offsetTable: Uint8Array | undefined;
    let pos = start;
    for (;;) {
      this.#need(pos, 8, end, 'an item of the encapsulated pixel data');
      // Encapsulated syntaxes are all little endian.
      const tag = this.#tag(pos, true);
      const length = this.#view.getUint32(pos + 4, true);
      if (tag === Tag.SequenceDelimitationItem) break;
      if (tag !== Tag.Item || length === UNDEFINED_LENGTH) throw this.#malformed(pos, `${tagString(tag)} in the encapsulated pixel data`);
      this.#need(pos + 8, length, end, 'a pixel data fragment');
      const value = this.#bytes.subarray(pos + 8, pos + 8 + length);
      if (offsetTable === undefined) offsetTable = value;
      else fragments.push(value);
      pos += 8 + length;
    }
    if (offsetTable === undefined) throw this.#malformed(pos, 'encapsulated pixel data without a Basic Offset Table item');
    return { ref: { vr, offset: start, length: pos - start, encapsulated: { offsetTable, fragments } }, end: pos + 8 };
  }

  #make(elements: Map<number, ElementRef>, syntax: Syntax): DicomDataset {
    return new DicomDataset(this.#bytes, syntax.littleEndian, elements, (_dataset, ref) => this.definedItems(ref, ref.vr === 'UN' ? IMPLICIT_LE : syntax));
  }

  #tag(pos: number, le: boolean): number {
    return ((this.#view.getUint16(pos, le) << 16) | this.#view.getUint16(pos + 2, le)) >>> 0;
  }

  #need(pos: number, count: number, end: number, what: string): void {
    if (pos + count > end) {
      throw end === this.#bytes.length
        ? this.#truncated(`the file ends inside ${what} (offset ${pos}, ${count} bytes needed, ${Math.max(0, end - pos)} left)`)
        : this.#malformed(pos, `${what} overruns its enclosing value`);
    }
  }

  #truncated(detail: string): VoxgateError {
    return new VoxgateError('VXG_ERR_DICOM_TRUNCATED', `${this.#name}: truncated DICOM file: ${detail}.`);
  }

  #malformed(pos: number, detail: string): VoxgateError {
    return new VoxgateError('VXG_ERR_DICOM_MALFORMED', `${this.#name}: malformed DICOM at offset ${pos}: ${detail}.`);
  }
}
