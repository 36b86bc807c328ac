/**
 * The "retrieve" step of a job the DICOM node started (src/node/): the instances are already on
 * this machine, in the group's folder, so retrieving is moving each file into the job's folder
 * (a rename: same file system). Each move is recorded before the next, so a resumed job takes the
 * files still there and skips the ones it has. The emptied folder is removed at the end.
 * @module
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { VoxgateError } from '../errors.js';
import { isDicomUid, isJobId } from './job-files.js';
import type { DataResource } from './request.js';
import type { RetrieveContext, Retriever } from './steps.js';

/** `<dataDir>/dicom-node/groups/<groupId>/`; the group id is a UUID the node made. */
export function dicomNodeGroupFolder(dataDir: string, groupId: string): string {
  // Same shape as a job id (a UUID): never a value from the network in a path.
  if (!isJobId(groupId)) throw new VoxgateError('VXG_ERR_JOB_SOURCE', `"${groupId}" is not a DICOM node group id.`);
  return join(dataDir, 'dicom-node', 'groups', groupId);
}

/**
 * @example
 * const steps = { retrievers: { DicomNode: new DicomNodeRetriever(config.dataDir) }, … };
 */
export class DicomNodeRetriever implements Retriever {
  readonly #dataDir: string;

  constructor(dataDir: string) {
    this.#dataDir = dataDir;
  }

  async retrieve(source: DataResource, _inputs: unknown, context: RetrieveContext): Promise<void> {
    if (source.interface !== 'DicomNode') throw new VoxgateError('VXG_ERR_JOB_UNSUPPORTED', `A ${source.interface} source reached the DICOM node step.`);
    const folder = dicomNodeGroupFolder(this.#dataDir, source.groupId);
    const names = await readdir(folder).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [] as string[]; // taken completely by an earlier run
      throw err;
    });
    const files = names.filter((n) => n.endsWith('.dcm') && isDicomUid(n.slice(0, -4)));
    for (const [index, file] of files.entries()) {
      context.signal.throwIfAborted();
      await context.addInstance(file.slice(0, -4), { file: join(folder, file) });
      context.progress((index + 1) / files.length);
    }
    await rm(folder, { recursive: true, force: true });
  }
}
