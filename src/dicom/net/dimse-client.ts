/**
 * DIMSE SCU operations for the ACR inference requests (spec/acr-api.md, "Processing"): C-ECHO,
 * C-FIND to resolve a patient or accession number to studies, C-MOVE (into Voxgate's own store
 * SCP) or C-GET to retrieve, C-STORE to export results. Study Root Query/Retrieve (PS3.4 C.6.2).
 *
 * Every failure is a {@link PeerError}: a rejected association, an abort, a timeout, a failure
 * status (PS3.7 Annex C), with `transient` saying whether to retry.
 * @module
 */
import { mkdir, readdir } from 'node:fs/promises';
import dcmjsDimse from 'dcmjs-dimse';
import type { Dataset as DimseDataset, requests as dimseRequests, responses as dimseResponses } from 'dcmjs-dimse';
import { PeerError } from './errors.js';
import type { AssociationOptions, DimsePeer, ProposedContext } from './dimse-association.js';
import { IMAGE_STORAGE_SOP_CLASSES, STORAGE_TRANSFER_SYNTAXES, checkPeer, isAeTitle, peerName, runAssociation } from './dimse-association.js';
import { describeStatus, isTransientStatus, statusKind } from './dimse-status.js';
import { isUid } from './part10.js';
import { isExactValue } from './query-value.js';
import type { ReceivedInstance } from './store-receiver.js';
import { placeInstance } from './store-receiver.js';
import type { StoreScp } from './store-scp.js';

export type { DimsePeer } from './dimse-association.js';
export { DEFAULT_CALLING_AE_TITLE } from './dimse-association.js';
export type { ReceivedInstance } from './store-receiver.js';

const { Dataset, requests } = dcmjsDimse;
type CFindResponse = dimseResponses.CFindResponse;
type CMoveResponse = dimseResponses.CMoveResponse;
type CGetResponse = dimseResponses.CGetResponse;
type Request = dimseRequests.Request;

/** How many of IMAGE_STORAGE_SOP_CLASSES (the first ones) get a context per compressed syntax. */
const COMPRESSED_CLASSES = 12;
const UNCOMPRESSED_SYNTAXES = STORAGE_TRANSFER_SYNTAXES.slice(0, 2);
/** The compressed syntaxes that get contexts of their own (PS3.5 Annex A, lossless first). */
const COMPRESSED_SYNTAXES = STORAGE_TRANSFER_SYNTAXES.slice(2, 9);

export interface DimseOptions {
  /** Connect, association and between-PDU timeout (default 30 s). */
  readonly timeoutMs?: number;
}

export type QueryLevel = 'STUDY' | 'SERIES' | 'IMAGE';

/** C-FIND keys: one of them (exact values; wildcards are refused). */
export interface FindQuery {
  readonly PatientID?: string;
  readonly AccessionNumber?: string;
  readonly StudyInstanceUID?: string;
  /** Needed at IMAGE level (hierarchical query). */
  readonly SeriesInstanceUID?: string;
}

export interface FindMatch {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid?: string;
  readonly sopInstanceUid?: string;
  /** Modality (SERIES level) or ModalitiesInStudy (STUDY level). */
  readonly modalities: readonly string[];
}

/** What to retrieve: a study, one of its series, or one instance. */
export interface DimseTarget {
  readonly study: string;
  readonly series?: string;
  readonly instance?: string;
}

/** Sub-operation counts of the final C-MOVE / C-GET response. */
export interface SubOperations {
  readonly completed: number;
  readonly failed: number;
  readonly warnings: number;
  /** The final status (0x0000 success, 0xB000 some failed). */
  readonly status: number;
}

export interface DimseRetrieveOptions extends DimseOptions {
  /** SOP Instance UIDs already retrieved: not fetched again. */
  readonly skip?: ReadonlySet<string>;
  /** Called for each instance written to the destination folder. */
  readonly onInstance?: (instance: ReceivedInstance) => void | Promise<void>;
  /**
   * Called with the number of sub-operations the retrieval will take, as the peer's pending
   * responses tell it (remaining + completed + failed + warnings; PS3.7 C.4.2.1.6), for progress.
   */
  readonly onTotal?: (total: number) => void;
}

export interface DimseRetrieveResult {
  readonly instances: ReceivedInstance[];
  /** Instances not fetched because `skip` had them. */
  skipped: number;
  readonly subOperations: SubOperations[];
}

export interface CStoreResult {
  readonly stored: readonly string[];
  readonly warnings: readonly { readonly sopInstanceUid: string; readonly status: number }[];
}

/**
 * C-ECHO: resolves when the peer answers Success.
 * @example
 * await cEcho({ aeTitle: 'ORTHANC', host: '127.0.0.1', port: 4242, callingAeTitle: 'VOXGATE' });
 */
export async function cEcho(peer: DimsePeer, options: DimseOptions = {}): Promise<void> {
  const request = new requests.CEchoRequest();
  const statuses = collect(request);
  await runAssociation(peer, [request], associationOptions(options));
  expectFinal(peer, 'C-ECHO', statuses);
}

/**
 * C-FIND (Study Root) at `level`: the matching studies, series or instances.
 * @example
 * const studies = await cFind(peer, { AccessionNumber: 'A123' }, 'STUDY');
 */
export async function cFind(peer: DimsePeer, query: FindQuery, level: QueryLevel = 'STUDY', options: DimseOptions = {}): Promise<FindMatch[]> {
  checkPeer(peer);
  const keys: Record<string, unknown> = { QueryRetrieveLevel: level, StudyInstanceUID: '' };
  if (query.PatientID !== undefined) keys.PatientID = exactValue(peer, query.PatientID, 'PatientID');
  if (query.AccessionNumber !== undefined) keys.AccessionNumber = exactValue(peer, query.AccessionNumber, 'AccessionNumber');
  if (query.StudyInstanceUID !== undefined) keys.StudyInstanceUID = uid(peer, query.StudyInstanceUID, 'StudyInstanceUID');
  if (query.SeriesInstanceUID !== undefined) keys.SeriesInstanceUID = uid(peer, query.SeriesInstanceUID, 'SeriesInstanceUID');
  if (query.PatientID === undefined && query.AccessionNumber === undefined && query.StudyInstanceUID === undefined) {
    throw requestError(peer, 'C-FIND needs a PatientID, AccessionNumber or StudyInstanceUID.');
  }
  if (level === 'STUDY') keys.ModalitiesInStudy = '';
  if (level === 'SERIES' || level === 'IMAGE') {
    if (level === 'IMAGE' && (keys.StudyInstanceUID === '' || keys.SeriesInstanceUID === undefined)) {
      throw requestError(peer, 'an IMAGE-level C-FIND needs StudyInstanceUID and SeriesInstanceUID.');
    }
    keys.SeriesInstanceUID ??= '';
    keys.Modality = '';
  }
  if (level === 'IMAGE') keys.SOPInstanceUID = '';
  const request = new requests.CFindRequest();
  request.setDataset(new Dataset(keys));
  const matches: FindMatch[] = [];
  const statuses: number[] = [];
  request.on('response', (response: CFindResponse) => {
    const status = response.getStatus();
    statuses.push(status);
    if (statusKind(status) !== 'pending' || !response.hasDataset()) return;
    const elements = (response.getDataset() as DimseDataset).getElements();
    const study = elements.StudyInstanceUID;
    if (!isUid(study)) return;
    const series = elements.SeriesInstanceUID;
    const sop = elements.SOPInstanceUID;
    const modalities = [elements.ModalitiesInStudy, elements.Modality].flatMap((v) => (Array.isArray(v) ? v : typeof v === 'string' && v ? v.split('\\') : [])).filter((v): v is string => typeof v === 'string' && v !== '');
    matches.push({
      studyInstanceUid: study,
      ...(isUid(series) ? { seriesInstanceUid: series } : {}),
      ...(isUid(sop) ? { sopInstanceUid: sop } : {}),
      modalities,
    });
  });
  await runAssociation(peer, [request], associationOptions(options));
  expectFinal(peer, 'C-FIND', statuses);
  return matches;
}

/**
 * C-MOVE of a study, series or instance to `destinationAeTitle` (the peer must know that AE
 * title's host and port). Resolves with the sub-operation counts; rejects on a failure status or
 * when every sub-operation failed.
 */
export async function cMove(peer: DimsePeer, target: DimseTarget, destinationAeTitle: string, options: DimseOptions = {}): Promise<SubOperations> {
  checkPeer(peer);
  if (!isAeTitle(destinationAeTitle)) throw requestError(peer, 'the move destination must be an AE title of 1–16 characters.');
  const request = moveRequest(peer, target, destinationAeTitle);
  const outcome = collectSubOperations(request);
  await runAssociation(peer, [request], associationOptions(options));
  return judgeSubOperations(peer, 'C-MOVE', outcome);
}

/**
 * Retrieves by C-MOVE into Voxgate's own store SCP: the instances of `target` that arrive at `scp`
 * (matched by study, series and move originator) are placed in `destDir` as `<SOPInstanceUID>.dcm`.
 * With a non-empty `skip`, the instances are listed by C-FIND first and only the missing ones moved.
 */
export async function cMoveInto(peer: DimsePeer, target: DimseTarget, scp: StoreScp, destDir: string, options: DimseRetrieveOptions = {}): Promise<DimseRetrieveResult> {
  checkPeer(peer);
  await mkdir(destDir, { recursive: true });
  const result: DimseRetrieveResult = { instances: [], skipped: 0, subOperations: [] };
  const callingAeTitle = peer.callingAeTitle ?? 'VOXGATE';
  const skip = options.skip ?? new Set<string>();
  const taken = new Set<string>();
  const unsubscribe = scp.subscribe(async (instance) => {
    if (instance.studyInstanceUid !== target.study) return false;
    if (target.series !== undefined && instance.seriesInstanceUid !== target.series) return false;
    if (instance.moveOriginatorAeTitle !== undefined && instance.moveOriginatorAeTitle.trim() !== callingAeTitle.trim()) return false;
    if (skip.has(instance.sopInstanceUid) || taken.has(instance.sopInstanceUid)) return true; // ours, but already here
    taken.add(instance.sopInstanceUid);
    const placed = await placeInstance(instance, destDir);
    result.instances.push(placed);
    await options.onInstance?.(placed);
    return true;
  });
  try {
    const units = await unitsToFetch(peer, target, skip, options, result);
    if (units.length === 0) return result;
    const moves = units.map((unit) => moveRequest(peer, unit, scp.aeTitle));
    const outcomes = trackTotals(moves.map((request) => collectSubOperations(request)), options.onTotal);
    await runAssociation(peer, moves, associationOptions(options));
    for (const outcome of outcomes) result.subOperations.push(judgeSubOperations(peer, 'C-MOVE', outcome));
    return result;
  } finally {
    unsubscribe();
  }
}

/**
 * C-GET of a study, series or instance into `destDir`: the peer sends the instances back on the
 * same association (C-STORE sub-operations, SCP role negotiated for the storage SOP classes
 * Voxgate reads), each streamed to `<SOPInstanceUID>.dcm`.
 */
export async function cGet(peer: DimsePeer, target: DimseTarget, destDir: string, options: DimseRetrieveOptions = {}): Promise<DimseRetrieveResult> {
  checkPeer(peer);
  await mkdir(destDir, { recursive: true });
  const result: DimseRetrieveResult = { instances: [], skipped: 0, subOperations: [] };
  const skip = options.skip ?? new Set<string>();
  const units = await unitsToFetch(peer, target, skip, options, result);
  if (units.length === 0) return result;
  const gets = units.map((unit) => getRequest(peer, unit));
  const outcomes = trackTotals(gets.map((request) => collectSubOperations(request)), options.onTotal);
  await runAssociation(peer, gets, {
    ...associationOptions(options),
    contexts: RETRIEVE_STORAGE_CONTEXTS,
    receiveDir: destDir,
    onReceived: async (instance) => {
      result.instances.push(instance);
      await options.onInstance?.(instance);
    },
  });
  for (const outcome of outcomes) result.subOperations.push(judgeSubOperations(peer, 'C-GET', outcome));
  return result;
}

/**
 * C-STORE of Part 10 files (paths) or datasets, on one association. Resolves with what was stored;
 * rejects with the first failure status (the other instances are still sent).
 */
export async function cStore(peer: DimsePeer, instances: readonly (string | DimseDataset)[], options: DimseOptions = {}): Promise<CStoreResult> {
  checkPeer(peer);
  const files = await Promise.all(instances.map(async (item) => (typeof item === 'string' ? expandFile(item) : [item])));
  const stores = files.flat().map((item) => new requests.CStoreRequest(item));
  const outcomes = stores.map((request) => collect(request));
  await runAssociation(peer, stores, associationOptions(options));
  const stored: string[] = [];
  const warnings: { sopInstanceUid: string; status: number }[] = [];
  let firstFailure: PeerError | undefined;
  stores.forEach((request, i) => {
    const sop = request.getAffectedSopInstanceUid();
    const status = outcomes[i].at(-1);
    if (status === undefined) {
      firstFailure ??= new PeerError('VXG_ERR_DIMSE_STATUS', `The DICOM peer ${peer.aeTitle} at ${peerName(peer)} never answered a C-STORE.`, { transient: true, server: peerName(peer) });
      return;
    }
    const kind = statusKind(status);
    if (kind === 'success') stored.push(sop);
    else if (kind === 'warning') {
      stored.push(sop);
      warnings.push({ sopInstanceUid: sop, status });
    } else firstFailure ??= statusError(peer, 'C-STORE', status);
  });
  if (firstFailure) throw firstFailure;
  return { stored, warnings };
}

/**
 * Storage contexts proposed with the SCP role for C-GET. The peer accepts one transfer syntax per
 * context and then must send in it: offered all syntaxes in one context, Orthanc accepts Explicit
 * VR Little Endian and fails (0xC000) on JPEG 2000 files it cannot decompress. So each syntax gets
 * a context of its own (as DCMTK's getscu does) for the volume image classes, and the other classes
 * get uncompressed only, to stay within the 128 contexts of an association (PS3.8 §9.3.2.2).
 */
const RETRIEVE_STORAGE_CONTEXTS: readonly ProposedContext[] = IMAGE_STORAGE_SOP_CLASSES.flatMap((abstractSyntaxUid, index) => {
  const groups: (readonly string[])[] =
    index < COMPRESSED_CLASSES ? [UNCOMPRESSED_SYNTAXES, ...COMPRESSED_SYNTAXES.map((ts) => [ts])] : [UNCOMPRESSED_SYNTAXES];
  return groups.map((transferSyntaxUids) => ({ abstractSyntaxUid, transferSyntaxUids, scpRole: true }));
});

function associationOptions(options: DimseOptions): AssociationOptions {
  return options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
}

/** The units to request: the target itself, or (with a skip set) each missing instance. */
async function unitsToFetch(peer: DimsePeer, target: DimseTarget, skip: ReadonlySet<string>, options: DimseOptions, result: DimseRetrieveResult): Promise<DimseTarget[]> {
  uid(peer, target.study, 'StudyInstanceUID');
  if (target.series !== undefined) uid(peer, target.series, 'SeriesInstanceUID');
  if (target.instance !== undefined) {
    uid(peer, target.instance, 'SOPInstanceUID');
    if (target.series === undefined) throw requestError(peer, 'an instance is retrieved within its series: give series too.');
    if (skip.has(target.instance)) {
      result.skipped = 1;
      return [];
    }
    return [target];
  }
  if (skip.size === 0) return [target];
  const seriesList = target.series !== undefined ? [target.series] : (await cFind(peer, { StudyInstanceUID: target.study }, 'SERIES', options)).flatMap((m) => (m.seriesInstanceUid ? [m.seriesInstanceUid] : []));
  const units: DimseTarget[] = [];
  let listed = 0;
  for (const series of seriesList) {
    const instances = await cFind(peer, { StudyInstanceUID: target.study, SeriesInstanceUID: series }, 'IMAGE', options);
    for (const match of instances) {
      if (!match.sopInstanceUid) continue;
      listed++;
      if (skip.has(match.sopInstanceUid)) result.skipped++;
      else units.push({ study: target.study, series, instance: match.sopInstanceUid });
    }
  }
  // A peer that lists nothing at IMAGE level: fall back to the whole target.
  return listed === 0 ? [target] : units;
}

function moveRequest(peer: DimsePeer, target: DimseTarget, destination: string): dimseRequests.CMoveRequest {
  const study = uid(peer, target.study, 'StudyInstanceUID');
  if (target.instance !== undefined && target.series !== undefined) {
    return requests.CMoveRequest.createImageMoveRequest(destination, study, uid(peer, target.series, 'SeriesInstanceUID'), uid(peer, target.instance, 'SOPInstanceUID'));
  }
  if (target.series !== undefined) return requests.CMoveRequest.createSeriesMoveRequest(destination, study, uid(peer, target.series, 'SeriesInstanceUID'));
  return requests.CMoveRequest.createStudyMoveRequest(destination, study);
}

function getRequest(peer: DimsePeer, target: DimseTarget): dimseRequests.CGetRequest {
  const study = uid(peer, target.study, 'StudyInstanceUID');
  let request: dimseRequests.CGetRequest;
  if (target.instance !== undefined && target.series !== undefined) {
    request = requests.CGetRequest.createImageGetRequest(study, uid(peer, target.series, 'SeriesInstanceUID'), uid(peer, target.instance, 'SOPInstanceUID'));
  } else if (target.series !== undefined) {
    request = requests.CGetRequest.createSeriesGetRequest(study, uid(peer, target.series, 'SeriesInstanceUID'));
  } else {
    request = requests.CGetRequest.createStudyGetRequest(study);
  }
  // We propose our own storage contexts (with more transfer syntaxes than the library's).
  request.setAddStorageSopClassesToAssociation(false);
  return request;
}

/** Statuses of a request's responses, in order. */
function collect(request: Request): number[] {
  const statuses: number[] = [];
  request.on('response', (response: dimseResponses.Response) => statuses.push(response.getStatus()));
  return statuses;
}

interface SubOperationOutcome {
  final?: SubOperations;
  /** Sub-operations in all, from the latest pending response. */
  total?: number;
  onPending?: () => void;
}

function collectSubOperations(request: Request): SubOperationOutcome {
  const outcome: SubOperationOutcome = {};
  request.on('response', (response: CMoveResponse | CGetResponse) => {
    const status = response.getStatus();
    if (statusKind(status) === 'pending') {
      const counts = [response.getRemaining(), response.getCompleted(), response.getFailures(), response.getWarnings()];
      if (counts.every((c) => Number.isInteger(c))) {
        outcome.total = counts.reduce((sum, c) => sum + c, 0);
        outcome.onPending?.();
      }
      return;
    }
    outcome.final = {
      status,
      completed: response.getCompleted() ?? 0,
      failed: response.getFailures() ?? 0,
      warnings: response.getWarnings() ?? 0,
    };
  });
  return outcome;
}

/** Reports the sum of the requests' totals (a request that has not told yet counts as one) after each pending response. */
function trackTotals(outcomes: SubOperationOutcome[], onTotal: ((total: number) => void) | undefined): SubOperationOutcome[] {
  if (!onTotal) return outcomes;
  for (const outcome of outcomes) outcome.onPending = () => onTotal(outcomes.reduce((sum, o) => sum + (o.total ?? 1), 0));
  return outcomes;
}

function judgeSubOperations(peer: DimsePeer, operation: string, outcome: SubOperationOutcome): SubOperations {
  const final = outcome.final;
  if (!final) {
    throw new PeerError('VXG_ERR_DIMSE_STATUS', `The DICOM peer ${peer.aeTitle} at ${peerName(peer)} never gave a final ${operation} response.`, { transient: true, server: peerName(peer) });
  }
  const kind = statusKind(final.status);
  if (kind === 'failure' || kind === 'cancel') throw statusError(peer, operation, final.status);
  if (final.completed === 0 && final.failed > 0) {
    throw new PeerError('VXG_ERR_DIMSE_STATUS', `All ${final.failed} ${operation} sub-operations on the DICOM peer ${peer.aeTitle} at ${peerName(peer)} failed (${describeStatus(final.status)}).`, {
      transient: false,
      server: peerName(peer),
      status: final.status,
    });
  }
  return final;
}

function expectFinal(peer: DimsePeer, operation: string, statuses: readonly number[]): void {
  const status = statuses.at(-1);
  if (status === undefined) {
    throw new PeerError('VXG_ERR_DIMSE_STATUS', `The DICOM peer ${peer.aeTitle} at ${peerName(peer)} never answered the ${operation}.`, { transient: true, server: peerName(peer) });
  }
  const kind = statusKind(status);
  if (kind === 'failure' || kind === 'cancel') throw statusError(peer, operation, status);
}

function statusError(peer: DimsePeer, operation: string, status: number): PeerError {
  return new PeerError('VXG_ERR_DIMSE_STATUS', `The DICOM peer ${peer.aeTitle} at ${peerName(peer)} answered the ${operation} with ${describeStatus(status)}.`, {
    transient: isTransientStatus(status),
    server: peerName(peer),
    status,
  });
}

function requestError(peer: DimsePeer, message: string): PeerError {
  return new PeerError('VXG_ERR_DIMSE_REQUEST', `Cannot use the DICOM peer ${peerName(peer)}: ${message}`, { transient: false, server: peerName(peer) });
}

function uid(peer: DimsePeer, value: string, name: string): string {
  if (!isUid(value)) throw requestError(peer, `${name} is not a UID (digits and dots, at most 64 characters).`);
  return value;
}

/** C-FIND matching treats `*`, `?` as wildcards and `\` as a separator (PS3.4 C.2.2.2): refused. */
function exactValue(peer: DimsePeer, value: string, name: string): string {
  if (!isExactValue(value)) {
    throw requestError(peer, `${name} must be a non-empty value of at most 64 characters without *, ?, \\ or control characters.`);
  }
  return value;
}

/** A path, or every file of a folder. */
async function expandFile(file: string): Promise<string[]> {
  try {
    const entries = await readdir(file, { withFileTypes: true });
    return entries.filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => `${file}/${e.name}`).sort();
  } catch {
    return [file];
  }
}
