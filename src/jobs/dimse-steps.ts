/**
 * DIMSE as a job source and destination (Voxgate's extension of the spec), on the protocol client
 * (src/dicom/net/dimse-client.ts): C-FIND resolves patient and accession inputs to studies, then
 * C-MOVE into Voxgate's own store SCP or C-GET on the same association brings each target into the
 * job's folder; C-STORE sends a result.
 * @module
 */
import type { DimsePeer } from '../dicom/net/dimse-client.js';
import { cFind, cGet, cMoveInto, cStore } from '../dicom/net/dimse-client.js';
import type { StoreScp } from '../dicom/net/store-scp.js';
import { VoxgateError } from '../errors.js';
import { fetchTargets } from './dicomweb-steps.js';
import type { DataResource, DimseResource, InputDetails } from './request.js';
import { targetsOf, uniqueTargets } from './retrieve-targets.js';
import { StepError } from './retry.js';
import type { ExportItem, ExportReceipt, Exporter, RetrieveContext, Retriever } from './steps.js';

export interface DimseStepOptions {
  /** Voxgate's AE title towards peers that the request gives no `callingAeTitle` for (config `aeTitle`). */
  readonly callingAeTitle: string;
  /** Connect, association and between-PDU timeout (default: the client's 30 s). */
  readonly timeoutMs?: number;
  /**
   * Voxgate's store SCP, where C-MOVE sends the instances; the peer must know its AE title, host
   * and port. Without one, C-MOVE sources fail with VXG_ERR_JOB_UNSUPPORTED (C-GET still works).
   */
  readonly storeScp?: () => Promise<StoreScp>;
}

function peerOf(resource: DataResource, callingAeTitle: string): DimsePeer & { retrieve: DimseResource['retrieve'] } {
  if (resource.interface !== 'DIMSE') throw new VoxgateError('VXG_ERR_JOB_UNSUPPORTED', `A ${resource.interface} resource reached the DIMSE step.`);
  return { aeTitle: resource.aeTitle, host: resource.host, port: resource.port, callingAeTitle: resource.callingAeTitle ?? callingAeTitle, retrieve: resource.retrieve };
}

/**
 * @example
 * const retriever = new DimseRetriever({ callingAeTitle: config.aeTitle, storeScp: () => node.scp });
 */
export class DimseRetriever implements Retriever {
  readonly #options: DimseStepOptions;

  constructor(options: DimseStepOptions) {
    this.#options = options;
  }

  async retrieve(source: DataResource, inputs: readonly InputDetails[], context: RetrieveContext): Promise<void> {
    const peer = peerOf(source, this.#options.callingAeTitle);
    const timeout = this.#options.timeoutMs === undefined ? {} : { timeoutMs: this.#options.timeoutMs };
    const { targets, queries } = targetsOf(inputs);
    if (targets.length === 0 && queries.length === 0) return;
    for (const query of queries) {
      for (const match of await cFind(peer, query, 'STUDY', timeout)) targets.push({ study: match.studyInstanceUid });
    }
    let scp: StoreScp | undefined;
    if (peer.retrieve === 'C-MOVE') {
      if (!this.#options.storeScp) {
        throw new StepError('VXG_ERR_JOB_UNSUPPORTED', "C-MOVE needs Voxgate's DICOM node, which this process does not run; use \"retrieve\": \"C-GET\".", { retryable: false });
      }
      scp = await this.#options.storeScp();
    }
    await fetchTargets(uniqueTargets(targets), `${peer.aeTitle}@${peer.host}:${peer.port}`, context, async (target, onInstance) => {
      const options = { ...timeout, skip: context.retrieved(), onInstance: (i: { sopInstanceUid: string; path: string }) => onInstance(i) };
      const result = scp ? await cMoveInto(peer, target, scp, context.folder, options) : await cGet(peer, target, context.folder, options);
      return result.instances.map((i) => i.sopInstanceUid);
    });
  }
}

/** C-STORE of one result file to a DIMSE destination; warning statuses are reported. */
export class DimseExporter implements Exporter {
  readonly #options: DimseStepOptions;

  constructor(options: DimseStepOptions) {
    this.#options = options;
  }

  async export(destination: DataResource, item: ExportItem): Promise<ExportReceipt> {
    const peer = peerOf(destination, this.#options.callingAeTitle);
    const result = await cStore(peer, [item.path], this.#options.timeoutMs === undefined ? {} : { timeoutMs: this.#options.timeoutMs });
    if (result.warnings.length > 0) {
      return { warning: `${item.result.name}: C-STORE answered warning ${result.warnings.map((w) => `0x${w.status.toString(16).toUpperCase()}`).join(', ')}` };
    }
    return {};
  }
}
