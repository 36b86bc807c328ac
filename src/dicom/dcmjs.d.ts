/**
 * Types for the part of dcmjs (0.51, untyped JavaScript) that Voxgate uses: Part 10 reading and
 * writing of "denaturalized" datasets (tag hex → {vr, Value}) and the naturalized form (keyword →
 * value) dcmjs' SEG tools take. Extend this file rather than declaring the module a second time.
 * @module
 */
declare module 'dcmjs' {
  /** One element of a denaturalized dataset: `Value` holds strings, numbers, items or binary data. */
  export interface DicomElement {
    vr: string;
    Value?: unknown[];
    /** InlineBinary / BulkDataURI are DICOM JSON forms; dcmjs' reader never produces them. */
    InlineBinary?: string;
  }

  /** A denaturalized dataset: 8-digit upper-case tag hex (e.g. `00280010`) → element. */
  export type DicomElements = Record<string, DicomElement>;

  /** A naturalized dataset: DICOM keyword → value (sequences are arrays of naturalized items). */
  export type NaturalizedDataset = Record<string, unknown>;

  export interface ReadFileOptions {
    ignoreErrors?: boolean;
    untilTag?: string | null;
    includeUntilTagValue?: boolean;
    /** Binary values are views on the input instead of copies. */
    noCopy?: boolean;
    forceStoreRaw?: boolean;
  }

  export interface WriteOptions {
    allowInvalidVRLength?: boolean;
    fragmentMultiframe?: boolean;
  }

  export class DicomDict {
    constructor(meta: DicomElements);
    meta: DicomElements;
    dict: DicomElements;
    write(options?: WriteOptions): ArrayBuffer;
  }

  export class DicomMessage {
    static readFile(buffer: ArrayBuffer, options?: ReadFileOptions): DicomDict;
  }

  export class DicomMetaDictionary {
    static naturalizeDataset(dataset: DicomElements): NaturalizedDataset;
    static denaturalizeDataset(dataset: NaturalizedDataset): DicomElements;
    static uid(): string;
    static date(): string;
    static time(): string;
    /** Keyword ("Rows") or "(0028,0010)" → dictionary entry. */
    static dictionary: Record<string, { tag: string; vr: string; name: string; vm: string } | undefined>;
    static nameMap: Record<string, { tag: string; vr: string; name: string; vm: string } | undefined>;
  }

  export const data: {
    DicomDict: typeof DicomDict;
    DicomMessage: typeof DicomMessage;
    DicomMetaDictionary: typeof DicomMetaDictionary;
  };

  export interface Logger {
    setLevel(level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent'): void;
    getLevel(): number;
    getLogger(name: string): Logger;
  }

  export const log: Logger;

  const dcmjs: { data: typeof data; log: Logger };
  export default dcmjs;
}
