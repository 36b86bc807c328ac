/**
 * Fixtures for job tests: requests as the ACR parser would produce them, and a temporary data
 * directory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AcrRequest } from '../../src/jobs/request.js';

let counter = 0;

/** A valid parsed request: one DICOMweb source, study-level DICOM_UID input, no destination. */
export function sampleRequest(overrides: Partial<AcrRequest> = {}): AcrRequest {
  counter++;
  return {
    transactionId: `tx-${process.pid}-${counter}`,
    priority: 128,
    pipeline: 'vista3d',
    algorithm: { id: 'vista3d', name: 'VISTA3D' },
    inputs: [{ type: 'DICOM_UID', studies: [{ studyInstanceUid: '1.2.3.4' }] }],
    sources: [{ interface: 'DICOMweb', uri: 'http://pacs.invalid/dicom-web/', authType: 'Bearer', authId: 'secret', operations: ['RETRIEVE'] }],
    destinations: [],
    ...overrides,
  };
}

export interface TempDir {
  readonly path: string;
  remove(): Promise<void>;
}

export async function makeTempDir(prefix: string): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
