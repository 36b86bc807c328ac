/**
 * The real CT series of ../shared/data as the networking tests need them: the values to query by,
 * read from the files themselves (never written into the tests), and a re-identified copy of
 * patient C's series, whose anonymised files have empty UIDs that no PACS accepts.
 *
 * Re-identifying edits top-level string elements in place (explicit or implicit VR little endian,
 * encapsulated pixel data kept byte for byte) and writes a new File Meta Information.
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeFileMeta, readFileMeta, stringValue, topLevelElements } from '../../src/dicom/net/part10.js';

const DATA = fileURLToPath(new URL('../../../shared/data/dicom_ct_series/', import.meta.url));
export const DCMQI_DIR = path.join(DATA, 'dcmqi_ct_3slice_with_seg', 'ct-3slice');
export const DCMQI_SEG = path.join(DATA, 'dcmqi_ct_3slice_with_seg', 'liver_SEG.dcm');
export const PATIENT_C_DIR = path.join(DATA, 'totalseg_patientC_petct_20slices', 'example_ct_dicom');

export const Tag = {
  SOPClassUID: 0x00080016,
  SOPInstanceUID: 0x00080018,
  AccessionNumber: 0x00080050,
  Modality: 0x00080060,
  PatientID: 0x00100020,
  StudyInstanceUID: 0x0020000d,
  SeriesInstanceUID: 0x0020000e,
  PixelData: 0x7fe00010,
} as const;

/** VRs of the tags we may have to insert (the others are only ever replaced). */
const INSERT_VR: Record<number, string> = {
  [Tag.SOPClassUID]: 'UI',
  [Tag.SOPInstanceUID]: 'UI',
  [Tag.AccessionNumber]: 'SH',
  [Tag.PatientID]: 'LO',
  [Tag.StudyInstanceUID]: 'UI',
  [Tag.SeriesInstanceUID]: 'UI',
};

export interface SeriesFixture {
  readonly dir: string;
  readonly files: readonly string[];
  readonly patientId: string;
  readonly accessionNumber: string;
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly sopInstanceUids: readonly string[];
  readonly transferSyntaxUid: string;
}

/** True when the shared data folder has both series. */
export function ctSeriesAvailable(): boolean {
  return existsSync(DCMQI_DIR) && existsSync(PATIENT_C_DIR) && readdirSync(PATIENT_C_DIR).length > 0;
}

/** String values of top-level elements of a Part 10 file (absent → ''). */
export function readStrings(bytes: Uint8Array, tags: readonly number[]): Map<number, string> {
  const meta = readFileMeta(bytes);
  if (!meta) throw new Error('not a complete Part 10 file');
  const wanted = new Set(tags);
  const out = new Map<number, string>(tags.map((t) => [t, '']));
  for (const element of topLevelElements(bytes, meta.datasetOffset, meta.transferSyntaxUid)) {
    if (wanted.has(element.tag)) out.set(element.tag, stringValue(bytes, element));
  }
  return out;
}

/** Reads what the tests query by from a folder of one series. */
export async function describeSeries(dir: string): Promise<SeriesFixture> {
  const files = readdirSync(dir).filter((f) => !f.startsWith('.')).sort().map((f) => path.join(dir, f));
  const sops: string[] = [];
  let first: Map<number, string> | undefined;
  let transferSyntaxUid = '';
  for (const file of files) {
    const bytes = await readFile(file);
    const values = readStrings(bytes, [Tag.PatientID, Tag.AccessionNumber, Tag.StudyInstanceUID, Tag.SeriesInstanceUID, Tag.SOPInstanceUID]);
    first ??= values;
    transferSyntaxUid = readFileMeta(bytes)?.transferSyntaxUid ?? '';
    sops.push(values.get(Tag.SOPInstanceUID) ?? '');
  }
  if (!first) throw new Error(`no files in ${dir}`);
  return {
    dir,
    files,
    patientId: first.get(Tag.PatientID) ?? '',
    accessionNumber: first.get(Tag.AccessionNumber) ?? '',
    studyInstanceUid: first.get(Tag.StudyInstanceUID) ?? '',
    seriesInstanceUid: first.get(Tag.SeriesInstanceUID) ?? '',
    sopInstanceUids: sops,
    transferSyntaxUid,
  };
}

/** A UID under 2.25 (PS3.5 §B.2) derived from `seed`, or random without one. */
export function uid(seed?: string): string {
  const bytes = seed === undefined ? randomBytes(16) : createHash('sha256').update(seed).digest().subarray(0, 16);
  return `2.25.${BigInt(`0x${bytes.toString('hex')}`).toString()}`;
}

/**
 * A copy of a Part 10 file with top-level string elements replaced or inserted (tag → value).
 * The meta header follows SOP Class / Instance UID changes. Group length elements are dropped.
 */
export function rewriteInstance(bytes: Uint8Array, changes: ReadonlyMap<number, string>): Buffer {
  const meta = readFileMeta(bytes);
  if (!meta) throw new Error('not a complete Part 10 file');
  const implicit = meta.transferSyntaxUid === '1.2.840.10008.1.2';
  const pending = new Map(changes);
  const out: Buffer[] = [];
  let sopClassUid = meta.sopClassUid;
  let sopInstanceUid = meta.sopInstanceUid;
  const emit = (tag: number, vr: string, value: string): void => {
    if (tag === Tag.SOPClassUID) sopClassUid = value;
    if (tag === Tag.SOPInstanceUID) sopInstanceUid = value;
    out.push(encodeStringElement(tag, vr, value, implicit));
  };
  let last = meta.datasetOffset;
  for (const element of topLevelElements(bytes, meta.datasetOffset, meta.transferSyntaxUid)) {
    for (const [tag, value] of [...pending]) {
      if (tag < element.tag) {
        emit(tag, INSERT_VR[tag] ?? 'LO', value);
        pending.delete(tag);
      }
    }
    if ((element.tag & 0xffff) === 0) {
      // drop group lengths: they would be wrong after the edit
    } else if (pending.has(element.tag)) {
      emit(element.tag, element.vr || INSERT_VR[element.tag] || 'LO', pending.get(element.tag) ?? '');
      pending.delete(element.tag);
    } else {
      out.push(Buffer.from(bytes.subarray(element.start, element.end)));
    }
    last = element.end;
  }
  if (last !== bytes.length) throw new Error(`could not walk the whole dataset (stopped at ${last} of ${bytes.length})`);
  for (const [tag, value] of pending) emit(tag, INSERT_VR[tag] ?? 'LO', value);
  const head = encodeFileMeta({ sopClassUid, sopInstanceUid, transferSyntaxUid: meta.transferSyntaxUid });
  return Buffer.concat([head, ...out]);
}

function encodeStringElement(tag: number, vr: string, value: string, implicit: boolean): Buffer {
  const padded = value.length % 2 === 1 ? value + (vr === 'UI' ? '\0' : ' ') : value;
  const data = Buffer.from(padded, 'latin1');
  const head = Buffer.alloc(8);
  head.writeUInt16LE(tag >>> 16, 0);
  head.writeUInt16LE(tag & 0xffff, 2);
  if (implicit) head.writeUInt32LE(data.length, 4);
  else {
    head.write(vr, 4, 'latin1');
    head.writeUInt16LE(data.length, 6);
  }
  return Buffer.concat([head, data]);
}

/** Synthetic identifiers given to patient C's anonymised series (not patient data). */
export const PATIENT_C_IDS = { patientId: 'VXG-TEST-C', accessionNumber: 'VXGACC0001' } as const;

/**
 * Patient C's 20 CT slices with UIDs, PatientID and AccessionNumber filled in, written once to
 * os.tmpdir()/voxgate-net-fixtures/patient-c-v1/ and described.
 */
export async function reidentifiedPatientC(): Promise<SeriesFixture> {
  const dir = path.join(os.tmpdir(), 'voxgate-net-fixtures', 'patient-c-v1');
  const sources = readdirSync(PATIENT_C_DIR).sort();
  if (!existsSync(path.join(dir, '.complete'))) {
    await mkdir(dir, { recursive: true });
    const study = uid('voxgate patient C study');
    const series = uid('voxgate patient C series');
    for (const name of sources) {
      const bytes = await readFile(path.join(PATIENT_C_DIR, name));
      const meta = readFileMeta(bytes);
      const changes = new Map<number, string>([
        [Tag.SOPClassUID, meta?.sopClassUid || '1.2.840.10008.5.1.4.1.1.2'],
        [Tag.SOPInstanceUID, uid(`voxgate patient C ${name}`)],
        [Tag.AccessionNumber, PATIENT_C_IDS.accessionNumber],
        [Tag.PatientID, PATIENT_C_IDS.patientId],
        [Tag.StudyInstanceUID, study],
        [Tag.SeriesInstanceUID, series],
      ]);
      const target = path.join(dir, `${String(sources.indexOf(name) + 1).padStart(2, '0')}.dcm`);
      await writeFile(`${target}.tmp`, rewriteInstance(bytes, changes));
      await rename(`${target}.tmp`, target);
    }
    await writeFile(path.join(dir, '.complete'), '');
  }
  return describeSeries(dir);
}
