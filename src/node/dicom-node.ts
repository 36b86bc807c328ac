/**
 * Voxgate's DICOM node: the C-ECHO / C-STORE SCP (src/dicom/net/store-scp.ts) with AE-title routing.
 * A scanner or PACS sends a study to one of the configured AE titles; the instances are grouped
 * (instance-groups.ts) and, once the sender has been quiet for the AE title's timeout, a job runs
 * the AE title's pipeline on them and exports the results to its destinations.
 *
 * Who may associate (PS3.8 §9.3.4 reasons when refused):
 * - Voxgate's own AE title (`aeTitle` of the configuration): always — C-MOVE retrievals of ACR jobs
 *   land there and are claimed by the retrieval that asked for them;
 * - a configured AE title: from a configured source (calling AE title and host), or from anyone
 *   when `rejectUnknownSources` is false; otherwise "calling AE title not recognised";
 * - any other called AE title: "called AE title not recognised".
 * @module
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { AssociationDecision, AssociationRequestInfo } from '../dicom/net/store-scp.js';
import { StoreScp } from '../dicom/net/store-scp.js';
import type { ReceivedInstance } from '../dicom/net/store-receiver.js';
import type { JobStore } from '../jobs/job-store.js';
import type { JobRecord } from '../jobs/job.js';
import type { AcrRequest, DataResource } from '../jobs/request.js';
import { DEFAULT_PRIORITY } from '../jobs/request.js';
import { destinationResource } from './entities.js';
import type { GroupInfo } from './instance-groups.js';
import { InstanceGroups } from './instance-groups.js';
import type { NodeConfig } from './node-config.js';

/** The few log calls the node makes (pino's shape); never patient data, UIDs only at debug. */
export interface NodeLog {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

export interface DicomNodeOptions {
  /** Voxgate's own AE title (C-MOVE destination of ACR retrievals). */
  readonly aeTitle: string;
  readonly host: string;
  /** 0: any free port (tests). */
  readonly port: number;
  readonly dataDir: string;
  readonly store: JobStore;
  readonly nodeConfig: NodeConfig;
  readonly rejectUnknownSources: boolean;
  readonly maxAssociations: number;
  /** Told about each job the node queues (the worker's `notify`). */
  readonly onQueued?: (job: JobRecord) => void;
  readonly log?: NodeLog;
  /** How often the configuration is re-read for changes made by other processes (default 10 s). */
  readonly refreshMs?: number;
}

const SILENT: NodeLog = { info: () => {}, warn: () => {}, error: () => {} };

/**
 * @example
 * const node = await DicomNode.start({ aeTitle: 'VOXGATE', host: '0.0.0.0', port: 11112, dataDir,
 *   store, nodeConfig, rejectUnknownSources: true, maxAssociations: 25, onQueued: () => worker.notify() });
 * node.activeAssociations; // → 0
 * await node.close();
 */
export class DicomNode {
  readonly scp: StoreScp;
  readonly #groups: InstanceGroups;
  readonly #refresh: NodeJS.Timeout;

  private constructor(scp: StoreScp, groups: InstanceGroups, refresh: NodeJS.Timeout) {
    this.scp = scp;
    this.#groups = groups;
    this.#refresh = refresh;
  }

  static async start(options: DicomNodeOptions): Promise<DicomNode> {
    const log = options.log ?? SILENT;
    const { nodeConfig } = options;
    const groups = new InstanceGroups({
      dataDir: options.dataDir,
      onReady: (group, instances) => queueJob(options, group, instances, log),
      onError: (err, group) => log.error({ err, groupId: group.groupId }, 'could not queue the job of a received group; trying again after the timeout'),
    });
    const recovered = await groups.recover(async (group) => (await options.store.getByTransactionId(transactionIdOf(group))) !== undefined);
    if (recovered > 0) log.info({ groups: recovered }, 'DICOM node: groups received before the last stop will become jobs');

    const ownAeTitle = options.aeTitle.trim();
    const decide = (request: AssociationRequestInfo): AssociationDecision => {
      if (request.calledAeTitle === ownAeTitle) return true;
      if (!nodeConfig.findAeTitle(request.calledAeTitle)) return { reject: 'called-ae' };
      if (options.rejectUnknownSources && !nodeConfig.isKnownSource(request.callingAeTitle, request.remoteAddress)) return { reject: 'calling-ae' };
      return true;
    };
    const onStored = async (instance: ReceivedInstance): Promise<'moved' | false> => {
      // Sent to Voxgate's own AE title: a C-MOVE retrieval claims it (dimse-client's cMoveInto).
      if (instance.calledAeTitle === ownAeTitle) return false;
      const ae = nodeConfig.findAeTitle(instance.calledAeTitle);
      if (!ae) return false;
      await groups.add(ae, instance);
      return 'moved';
    };
    const scp = await StoreScp.start({
      aeTitle: options.aeTitle,
      host: options.host,
      port: options.port,
      storageDir: join(options.dataDir, 'dicom-node', 'incoming'),
      maxAssociations: options.maxAssociations,
      acceptAssociation: decide,
      onStored,
    });
    const refresh = setInterval(() => void nodeConfig.refresh().catch((err: unknown) => log.warn({ err }, 'could not re-read the DICOM node configuration')), options.refreshMs ?? 10_000);
    refresh.unref();
    log.info({ aeTitle: options.aeTitle, port: scp.port }, 'DICOM node listening');
    return new DicomNode(scp, groups, refresh);
  }

  get port(): number {
    return this.scp.port;
  }

  get activeAssociations(): number {
    return this.scp.activeAssociations;
  }

  /** Groups still receiving (not yet jobs). */
  get pendingGroups(): number {
    return this.#groups.pending;
  }

  /** Stops listening; groups not yet queued stay on disk and become jobs at the next start. */
  async close(): Promise<void> {
    clearInterval(this.#refresh);
    this.#groups.close();
    await this.scp.close();
  }
}

/** The job's transactionID: made from the group, so a group is never queued twice. */
function transactionIdOf(group: GroupInfo): string {
  return `dicom-node-${group.groupId}`;
}

/** Stores the job of a ready group (idempotent: a group already queued is not queued twice). */
async function queueJob(options: DicomNodeOptions, group: GroupInfo, instances: number, log: NodeLog): Promise<void> {
  const transactionId = transactionIdOf(group);
  if (await options.store.getByTransactionId(transactionId)) return;
  const { destinations: configured } = options.nodeConfig.snapshot;
  const destinations: DataResource[] = [];
  for (const name of group.destinations) {
    const destination = configured.find((d) => d.name === name);
    if (destination) destinations.push(destinationResource(destination, options.aeTitle));
    else log.warn({ aeTitle: group.calledAeTitle, destination: name }, 'destination of the AE title no longer exists; its results are kept on the server only');
  }
  const request: AcrRequest = {
    transactionId,
    priority: DEFAULT_PRIORITY,
    pipeline: group.pipeline,
    algorithm: { id: group.pipeline },
    inputs: [],
    sources: [{ interface: 'DicomNode', groupId: group.groupId, callingAeTitle: group.callingAeTitle, calledAeTitle: group.calledAeTitle }],
    destinations,
  };
  const job = await options.store.create({ jobId: randomUUID(), request });
  log.info({ jobId: job.jobId, aeTitle: group.calledAeTitle, callingAeTitle: group.callingAeTitle, instances }, 'DICOM node: received group queued as a job');
  options.onQueued?.(job);
}
