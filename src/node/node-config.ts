/**
 * The DICOM node's configuration (AE titles, sources, destinations): validated, kept in the job
 * store (so it survives restarts and is shared by every process on that store), and mirrored in
 * memory for the SCP, which decides on each association synchronously. A change made through this
 * object takes effect at once; changes other processes make are picked up by `refresh()`, which the
 * node also runs every few seconds.
 * @module
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { z } from 'zod';
import { VoxgateError } from '../errors.js';
import type { JobStore, NodeEntryKind } from '../jobs/job-store.js';
import type { Pipeline } from '../jobs/pipelines.js';
import type { AeTitleEntity, DestinationEntity, NodeEntities, SourceEntity } from './entities.js';
import { ENTITY_SCHEMAS, identityOf } from './entities.js';

/** What the SCP consults: the entries, and the addresses each source's `hostIp` stands for. */
export interface NodeSnapshot {
  readonly aeTitles: readonly AeTitleEntity[];
  readonly sources: readonly SourceEntity[];
  readonly destinations: readonly DestinationEntity[];
  /** Source name → the IP addresses its host resolved to (an IP stands for itself). */
  readonly sourceAddresses: ReadonlyMap<string, ReadonlySet<string>>;
}

const EMPTY: NodeSnapshot = { aeTitles: [], sources: [], destinations: [], sourceAddresses: new Map() };

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) → `10.0.0.1`. */
export function plainAddress(address: string): string {
  return address.toLowerCase().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
}

/**
 * @example
 * const node = await NodeConfig.load(store, pipelineTable(config.pipelines));
 * await node.create('source', { name: 'pacs', aeTitle: 'PACS', hostIp: '10.0.0.5' });
 * node.findAeTitle('VOXSEG'); // → the AE title entry, or undefined
 */
export class NodeConfig {
  readonly #store: JobStore;
  readonly #pipelines: ReadonlyMap<string, Pipeline>;
  readonly #ownAeTitle: string | undefined;
  #snapshot: NodeSnapshot = EMPTY;

  private constructor(store: JobStore, pipelines: ReadonlyMap<string, Pipeline>, ownAeTitle: string | undefined) {
    this.#store = store;
    this.#pipelines = pipelines;
    this.#ownAeTitle = ownAeTitle?.trim();
  }

  /**
   * @param options.ownAeTitle Voxgate's own AE title (config `aeTitle`), which no AE title entry may
   *   take: C-MOVE retrievals land there.
   */
  static async load(store: JobStore, pipelines: ReadonlyMap<string, Pipeline>, options: { readonly ownAeTitle?: string } = {}): Promise<NodeConfig> {
    const config = new NodeConfig(store, pipelines, options.ownAeTitle);
    await config.refresh();
    return config;
  }

  get snapshot(): NodeSnapshot {
    return this.#snapshot;
  }

  /** Reads every entry from the store again (and resolves source host names). */
  async refresh(): Promise<void> {
    const [aeTitles, sources, destinations] = await Promise.all([this.list('ae-title'), this.list('source'), this.list('destination')]);
    const sourceAddresses = new Map<string, ReadonlySet<string>>();
    await Promise.all(
      sources.map(async (source) => {
        sourceAddresses.set(source.name, await addressesOf(source.hostIp));
      }),
    );
    this.#snapshot = { aeTitles, sources, destinations, sourceAddresses };
  }

  /** The AE title entry Voxgate answers to as `calledAeTitle` (compared without padding). */
  findAeTitle(calledAeTitle: string): AeTitleEntity | undefined {
    const wanted = calledAeTitle.trim();
    return this.#snapshot.aeTitles.find((ae) => ae.aeTitle === wanted);
  }

  /** True when a configured source has this calling AE title and `remoteAddress` among its host's addresses. */
  isKnownSource(callingAeTitle: string, remoteAddress: string): boolean {
    const calling = callingAeTitle.trim();
    const address = plainAddress(remoteAddress);
    return this.#snapshot.sources.some((s) => s.aeTitle === calling && (this.#snapshot.sourceAddresses.get(s.name)?.has(address) ?? false));
  }

  async list<K extends NodeEntryKind>(kind: K): Promise<NodeEntities[K][]> {
    const entries = await this.#store.listNodeEntries(kind);
    return entries.map((e) => e.body as unknown as NodeEntities[K]);
  }

  /** @throws VoxgateError VXG_ERR_NODE_CONFIG_NOT_FOUND */
  async get<K extends NodeEntryKind>(kind: K, name: string): Promise<NodeEntities[K]> {
    const found = (await this.list(kind)).find((e) => e.name === name);
    if (!found) throw notFound(kind, name);
    return found;
  }

  /** Validates and stores a new entry. @throws VXG_ERR_NODE_CONFIG_INVALID, VXG_ERR_NODE_CONFIG_DUPLICATE */
  async create<K extends NodeEntryKind>(kind: K, body: unknown): Promise<NodeEntities[K]> {
    const entity = this.#validate(kind, body);
    await this.#check(kind, entity);
    await this.#store.createNodeEntry({ kind, name: entity.name, identity: identityOf(kind, entity), body: entity as unknown as Record<string, unknown> });
    await this.refresh();
    return entity;
  }

  /**
   * Replaces the entry called `name` (the body's `name`, when given, must be the same).
   * @throws VXG_ERR_NODE_CONFIG_INVALID, VXG_ERR_NODE_CONFIG_NOT_FOUND, VXG_ERR_NODE_CONFIG_DUPLICATE
   */
  async replace<K extends NodeEntryKind>(kind: K, name: string, body: unknown): Promise<NodeEntities[K]> {
    const given = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    if (given.name !== undefined && given.name !== name) {
      throw new VoxgateError('VXG_ERR_NODE_CONFIG_INVALID', `Invalid ${kind}: name "${String(given.name)}" differs from "${name}" in the path; names cannot be changed.`);
    }
    const entity = this.#validate(kind, { ...given, name });
    await this.#check(kind, entity);
    const replaced = await this.#store.replaceNodeEntry({ kind, name, identity: identityOf(kind, entity), body: entity as unknown as Record<string, unknown> });
    if (!replaced) throw notFound(kind, name);
    await this.refresh();
    return entity;
  }

  /** Removes an entry and answers what it was. @throws VXG_ERR_NODE_CONFIG_NOT_FOUND, VXG_ERR_NODE_CONFIG_IN_USE */
  async delete<K extends NodeEntryKind>(kind: K, name: string): Promise<NodeEntities[K]> {
    const entity = await this.get(kind, name);
    if (kind === 'destination') {
      const users = (await this.list('ae-title')).filter((ae) => ae.destinations.includes(name)).map((ae) => ae.name);
      if (users.length > 0) {
        throw new VoxgateError('VXG_ERR_NODE_CONFIG_IN_USE', `Destination "${name}" is used by AE title(s) ${users.map((u) => `"${u}"`).join(', ')}; remove it from their destinations first.`);
      }
    }
    if (!(await this.#store.deleteNodeEntry(kind, name))) throw notFound(kind, name);
    await this.refresh();
    return entity;
  }

  #validate<K extends NodeEntryKind>(kind: K, body: unknown): NodeEntities[K] {
    const schema = ENTITY_SCHEMAS[kind] as unknown as z.ZodType<NodeEntities[K]>;
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
      throw new VoxgateError('VXG_ERR_NODE_CONFIG_INVALID', `Invalid ${kind}: ${problems}.`);
    }
    return parsed.data;
  }

  /** What the schema cannot see: the pipeline is configured, the destinations exist. */
  async #check<K extends NodeEntryKind>(kind: K, entity: NodeEntities[K]): Promise<void> {
    if (kind !== 'ae-title') return;
    const ae = entity as AeTitleEntity;
    const problems: string[] = [];
    if (ae.aeTitle === this.#ownAeTitle) problems.push(`aeTitle: "${ae.aeTitle}" is Voxgate's own AE title (where C-MOVE retrievals land); choose another`);
    if (!this.#pipelines.has(ae.pipeline)) problems.push(`pipeline: "${ae.pipeline}" is not a configured pipeline (${[...this.#pipelines.keys()].join(', ')})`);
    const known = new Set((await this.list('destination')).map((d) => d.name));
    const missing = ae.destinations.filter((d) => !known.has(d));
    if (missing.length > 0) problems.push(`destinations: no destination named ${missing.map((d) => `"${d}"`).join(', ')}`);
    if (problems.length > 0) throw new VoxgateError('VXG_ERR_NODE_CONFIG_INVALID', `Invalid ae-title: ${problems.join('; ')}.`);
  }
}

function notFound(kind: NodeEntryKind, name: string): VoxgateError {
  return new VoxgateError('VXG_ERR_NODE_CONFIG_NOT_FOUND', `No ${kind} named "${name}".`);
}

/** An IP stands for itself; a host name for what it resolves to now (nothing when it does not). */
async function addressesOf(host: string): Promise<ReadonlySet<string>> {
  if (isIP(host)) return new Set([plainAddress(host)]);
  try {
    return new Set((await lookup(host, { all: true })).map((a) => plainAddress(a.address)));
  } catch {
    return new Set();
  }
}
