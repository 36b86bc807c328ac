/**
 * A parsed DICOM dataset that keeps values as byte ranges of the file and decodes only what is
 * asked for: a series of 300 CT slices has ~150 elements per file, of which Voxgate reads about 20,
 * and the pixel data (the other 99.9 % of the bytes) is a view, never a copy.
 *
 * Values are decoded by VR (PS3.5 §6.2): binary numbers (US, SS, UL, SL, FL, FD) in the dataset's
 * byte order, DS / IS / UI / CS as backslash-separated ASCII. Text in other character sets (PN, LO
 * with SpecificCharacterSet) is read through dcmjs' naturalised datasets, never here.
 * @module
 */

/** An element as found in the file: where its value lies, or the items of a sequence. */
export interface ElementRef {
  /** The VR as encoded (explicit VR), or from the data dictionary (implicit VR), or `UN`. */
  readonly vr: string;
  /** Offset of the value in `DicomDataset.bytes`. */
  readonly offset: number;
  /** Value length in bytes; for undefined-length values, the bytes up to the delimiter. */
  readonly length: number;
  /** Items of a sequence (SQ, or UN / implicit with undefined length). */
  readonly items?: readonly DicomDataset[];
  /** Encapsulated pixel data (PS3.5 A.4): the Basic Offset Table and the fragments after it, as views. */
  readonly encapsulated?: { readonly offsetTable: Uint8Array; readonly fragments: readonly Uint8Array[] };
}

/**
 * Parses the items of a defined-length value on first use: in implicit VR a sequence is only known
 * to be one when someone asks for its items.
 */
export type ItemParser = (dataset: DicomDataset, ref: ElementRef) => readonly DicomDataset[];

const latin1 = new TextDecoder('latin1');

export class DicomDataset {
  readonly bytes: Uint8Array;
  readonly littleEndian: boolean;
  readonly elements: ReadonlyMap<number, ElementRef>;
  readonly #parseItems: ItemParser;
  readonly #items = new Map<number, readonly DicomDataset[]>();
  #view: DataView | undefined;

  constructor(bytes: Uint8Array, littleEndian: boolean, elements: ReadonlyMap<number, ElementRef>, parseItems: ItemParser) {
    this.bytes = bytes;
    this.littleEndian = littleEndian;
    this.elements = elements;
    this.#parseItems = parseItems;
  }

  has(tag: number): boolean {
    return this.elements.has(tag);
  }

  /** The raw value bytes (a view on the file). */
  value(tag: number): Uint8Array | undefined {
    const ref = this.elements.get(tag);
    return ref && this.bytes.subarray(ref.offset, ref.offset + ref.length);
  }

  /** The whole value as text, trailing spaces and NULs removed; undefined when absent or empty. */
  string(tag: number): string | undefined {
    const ref = this.elements.get(tag);
    if (!ref || ref.length === 0) return undefined;
    let end = ref.offset + ref.length;
    const bytes = this.bytes;
    while (end > ref.offset && (bytes[end - 1] === 0x20 || bytes[end - 1] === 0)) end--;
    if (end === ref.offset) return undefined;
    // TextDecoder costs about a microsecond a call; the short values read here are faster by hand.
    if (end - ref.offset > 64) return latin1.decode(bytes.subarray(ref.offset, end));
    let text = '';
    for (let p = ref.offset; p < end; p++) text += String.fromCharCode(bytes[p]);
    return text;
  }

  /** Backslash-separated values, each trimmed (PS3.5 §6.4 value multiplicity). */
  strings(tag: number): string[] | undefined {
    const text = this.string(tag);
    return text === undefined ? undefined : text.split('\\').map((s) => s.trim());
  }

  /** Numbers of a numeric VR: binary (US, SS, UL, SL, FL, FD) or text (DS, IS). NaN for an unparsable DS. */
  numbers(tag: number): number[] | undefined {
    const ref = this.elements.get(tag);
    if (!ref || ref.length === 0) return undefined;
    const size = BINARY_SIZE[ref.vr];
    if (size === undefined) {
      const parts = this.strings(tag);
      return parts?.map((s) => (s === '' ? Number.NaN : Number(s)));
    }
    const view = (this.#view ??= new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength));
    const out: number[] = [];
    const le = this.littleEndian;
    for (let o = ref.offset; o + size <= ref.offset + ref.length; o += size) {
      switch (ref.vr) {
        case 'US': out.push(view.getUint16(o, le)); break;
        case 'SS': out.push(view.getInt16(o, le)); break;
        case 'UL': out.push(view.getUint32(o, le)); break;
        case 'SL': out.push(view.getInt32(o, le)); break;
        case 'FL': out.push(view.getFloat32(o, le)); break;
        case 'FD': out.push(view.getFloat64(o, le)); break;
      }
    }
    return out;
  }

  /** The first number, or undefined when the element is absent, empty or unparsable. */
  number(tag: number): number | undefined {
    const v = this.numbers(tag)?.[0];
    return v === undefined || Number.isNaN(v) ? undefined : v;
  }

  /** The items of a sequence; an empty array when the sequence is absent. */
  items(tag: number): readonly DicomDataset[] {
    const ref = this.elements.get(tag);
    if (!ref) return [];
    if (ref.items) return ref.items;
    let items = this.#items.get(tag);
    if (!items) {
      items = this.#parseItems(this, ref);
      this.#items.set(tag, items);
    }
    return items;
  }

  /** The first item of a sequence, if any. */
  item(tag: number): DicomDataset | undefined {
    return this.items(tag)[0];
  }
}

/** Byte size of the binary numeric VRs; text VRs (DS, IS) are absent. */
const BINARY_SIZE: Record<string, number | undefined> = { US: 2, SS: 2, UL: 4, SL: 4, FL: 4, FD: 8 };
