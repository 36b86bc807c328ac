/**
 * Where a job's files live, and the rules that keep request data out of paths: folders are named by
 * the jobId (a UUID Voxgate made), instance files by their SOP Instance UID only when it is a valid
 * UID (digits and dots), result files by names Voxgate chose. The caller's transactionID never
 * reaches the file system.
 *
 * Layout under the data directory:
 * - `jobs/<jobId>/dicom/<SOPInstanceUID>.dcm` — retrieved instances (removed when the job ends)
 * - `jobs/<jobId>/resources/` — FHIR resources stored with the job
 * - `jobs/<jobId>/tmp/` — downloads in progress
 * - `results/<jobId>/` — SEG and NIfTI results, listed by `GET /api/inference/{jobId}/results`
 * @module
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { VoxgateError } from '../errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** PS3.5 §9.1: components of digits without leading zeros, separated by dots, at most 64 characters. */
const UID = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;
/** Result file names Voxgate writes: no separators, no leading dot. */
const RESULT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;

export function isJobId(value: string): boolean {
  return UUID.test(value);
}

export function isDicomUid(value: string): boolean {
  return value.length <= 64 && UID.test(value);
}

/** True for a name that may be a result file: what the download route accepts before looking it up. */
export function isSafeResultName(name: string): boolean {
  return RESULT_NAME.test(name) && !name.includes('..');
}

function checked(jobId: string): string {
  if (!isJobId(jobId)) throw new VoxgateError('VXG_ERR_JOB_NOT_FOUND', `"${jobId}" is not a job id.`);
  return jobId;
}

export function jobFolder(dataDir: string, jobId: string): string {
  return join(dataDir, 'jobs', checked(jobId));
}

export function dicomFolder(dataDir: string, jobId: string): string {
  return join(jobFolder(dataDir, jobId), 'dicom');
}

export function resultsFolder(dataDir: string, jobId: string): string {
  return join(dataDir, 'results', checked(jobId));
}

/** The file name an instance is stored under. */
export function instanceFileName(sopInstanceUid: string): string {
  return isDicomUid(sopInstanceUid) ? `${sopInstanceUid}.dcm` : `${createHash('sha256').update(sopInstanceUid).digest('hex')}.dcm`;
}

/** A unique path in the job's temporary folder (same file system as its other folders, so a rename moves it). */
export function tempFilePath(dataDir: string, jobId: string): string {
  return join(jobFolder(dataDir, jobId), 'tmp', `${randomUUID()}.part`);
}

/** Writes a file so that readers (and a resumed job) see all of it or nothing: temporary file, then rename. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${randomUUID()}.part`;
  try {
    await writeFile(temporary, data);
    await rename(temporary, path);
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  }
}
