/**
 * Groups the instances the DICOM node receives into the sets that become jobs: per AE title entry,
 * calling AE title and Study (or Series) Instance UID, as the AE title's `grouping` says. A group is
 * ready once no instance has come for the AE title's `timeout` seconds.
 *
 * Each group is a folder `<dataDir>/dicom-node/groups/<groupId>/` holding its instances and a
 * `group.json` that says where they belong, so groups received before a crash or a shutdown are
 * picked up again at the next start (`recover`) and still become jobs.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { renameSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReceivedInstance } from '../dicom/net/store-receiver.js';
import { dicomNodeGroupFolder } from '../jobs/dicom-node-retriever.js';
import { instanceFileName, isJobId } from '../jobs/job-files.js';
import type { AeTitleEntity } from './entities.js';
import { Groupings } from './entities.js';

/** What a group's `group.json` holds: enough to make its job without the configuration. */
export interface GroupInfo {
  readonly groupId: string;
  /** The AE title entry's name, pipeline and destinations when the first instance came. */
  readonly aeTitleName: string;
  readonly pipeline: string;
  readonly destinations: readonly string[];
  readonly calledAeTitle: string;
  readonly callingAeTitle: string;
  /** The Study or Series Instance UID the group shares ('' when the instances had none). */
  readonly groupingValue: string;
  readonly timeoutSeconds: number;
}

interface OpenGroup {
  readonly info: GroupInfo;
  readonly folder: string;
  /** The folder and group.json, made once. */
  readonly created: Promise<void>;
  instances: number;
  /** Instances being placed right now: the group is not ready while one is. */
  placing: number;
  timer: NodeJS.Timeout | undefined;
}

export interface InstanceGroupsOptions {
  readonly dataDir: string;
  /**
   * Called once per group when it is ready. Rejecting keeps the group: it is offered again after
   * another timeout (and after a restart).
   */
  readonly onReady: (group: GroupInfo, instances: number) => Promise<void>;
  readonly onError?: (err: unknown, group: GroupInfo) => void;
}

/**
 * @example
 * const groups = new InstanceGroups({ dataDir, onReady: async (group) => createJob(group) });
 * await groups.add(aeTitleEntry, receivedInstance);
 */
export class InstanceGroups {
  readonly #options: InstanceGroupsOptions;
  readonly #open = new Map<string, OpenGroup>();
  #closed = false;

  constructor(options: InstanceGroupsOptions) {
    this.#options = options;
  }

  /** Groups still collecting instances. */
  get pending(): number {
    return this.#open.size;
  }

  /** Moves a received instance into its group and restarts the group's quiet timer. */
  async add(ae: AeTitleEntity, instance: ReceivedInstance): Promise<void> {
    const groupingValue = (ae.grouping === Groupings.series ? instance.seriesInstanceUid : instance.studyInstanceUid) ?? '';
    const key = `${ae.name}\u0000${instance.callingAeTitle}\u0000${groupingValue}`;
    let group = this.#open.get(key);
    if (!group) {
      const groupId = randomUUID();
      const info: GroupInfo = {
        groupId,
        aeTitleName: ae.name,
        pipeline: ae.pipeline,
        destinations: ae.destinations,
        calledAeTitle: instance.calledAeTitle,
        callingAeTitle: instance.callingAeTitle,
        groupingValue,
        timeoutSeconds: ae.timeout,
      };
      const folder = dicomNodeGroupFolder(this.#options.dataDir, groupId);
      const created = mkdir(folder, { recursive: true }).then(() => writeFile(join(folder, 'group.json'), JSON.stringify(info)));
      group = { info, folder, created, instances: 0, placing: 0, timer: undefined };
      this.#open.set(key, group);
    }
    group.placing++;
    this.#arm(key, group);
    try {
      await group.created;
      // A rename within the data directory, synchronous: a few microseconds of metadata, where a
      // thread-pool round trip would add its latency to every C-STORE response.
      renameSync(instance.path, join(group.folder, instanceFileName(instance.sopInstanceUid)));
      group.instances++;
    } finally {
      group.placing--;
      this.#arm(key, group);
    }
  }

  /**
   * Re-opens the groups a previous run left (their timers start now), except those `queued` says
   * are jobs already (their folders wait for the job to take them). Returns how many.
   */
  async recover(queued: (group: GroupInfo) => Promise<boolean> = async () => false): Promise<number> {
    const root = join(this.#options.dataDir, 'dicom-node', 'groups');
    const ids = (await readdir(root).catch(() => [] as string[])).filter(isJobId);
    let recovered = 0;
    for (const groupId of ids) {
      const folder = dicomNodeGroupFolder(this.#options.dataDir, groupId);
      const info = await readFile(join(folder, 'group.json'), 'utf8')
        .then((text) => JSON.parse(text) as GroupInfo)
        .catch(() => undefined);
      if (!info || info.groupId !== groupId || (await queued(info))) continue;
      const instances = (await readdir(folder)).filter((n) => n.endsWith('.dcm')).length;
      const key = `recovered\u0000${groupId}`;
      const group: OpenGroup = { info, folder, created: Promise.resolve(), instances, placing: 0, timer: undefined };
      this.#open.set(key, group);
      this.#arm(key, group);
      recovered++;
    }
    return recovered;
  }

  /** Stops the timers; open groups stay on disk for the next start. */
  close(): void {
    this.#closed = true;
    for (const group of this.#open.values()) clearTimeout(group.timer);
    this.#open.clear();
  }

  #arm(key: string, group: OpenGroup): void {
    clearTimeout(group.timer);
    if (this.#closed) return;
    group.timer = setTimeout(() => void this.#fire(key, group), group.info.timeoutSeconds * 1000);
  }

  async #fire(key: string, group: OpenGroup): Promise<void> {
    if (group.placing > 0 || this.#open.get(key) !== group) return; // the last placement re-arms it
    // From here on a new instance of the same study opens a new group (and becomes a new job).
    this.#open.delete(key);
    try {
      await this.#options.onReady(group.info, group.instances);
    } catch (err) {
      this.#options.onError?.(err, group.info);
      if (!this.#closed) {
        this.#open.set(`retry\u0000${group.info.groupId}`, group);
        this.#arm(`retry\u0000${group.info.groupId}`, group);
      }
    }
  }
}
